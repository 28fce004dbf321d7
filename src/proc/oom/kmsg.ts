// Non-blocking reader of the kernel log (/dev/kmsg): each tick drains the records logged since the last.
//
// /dev/kmsg returns one record per read(), EAGAIN when none is left (opened O_NONBLOCK, so a read
// never holds a thread), and EPIPE when records were overwritten before we read them (the next read
// goes on from the oldest one left). Node has no lseek, so skipToEnd() reads and discards what is
// already there. A regular file works too (tests append records to one): reads then return many
// lines at once, and 0 at its end.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { errnoCode } from '../../core/errors.ts';
import { parseKmsgRecord, type KmsgRecord } from './parse.ts';

/** What one drain returned. */
export interface KmsgBatch {
  records: KmsgRecord[];
  /** Times the kernel said records were overwritten before they were read (EPIPE). */
  overruns: number;
}

/** Reads a kmsg device or file without blocking; the caller opens it once and drains it each tick. */
export class KmsgReader {
  readonly path: string;
  readonly #fd: number;
  // Larger than any record (the kernel returns EINVAL when a record does not fit).
  readonly #buf = Buffer.allocUnsafe(64 * 1024);
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #closed = false;

  /** Opens the log; throws the system error (EACCES, ENOENT, EPERM) when it cannot. */
  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Discards everything logged so far, so that only new records are read. */
  skipToEnd(): void {
    this.read(Number.POSITIVE_INFINITY);
  }

  /** Every record available now; stops after about `max` (the rest waits for the next call). */
  read(max = 10_000): KmsgBatch {
    const batch: KmsgBatch = { records: [], overruns: 0 };
    while (!this.#closed && batch.records.length < max) {
      let n: number;
      try {
        n = readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') { batch.overruns++; continue; }
        throw err;
      }
      if (n === 0) break;
      const text = this.#partial + this.#decoder.write(this.#buf.subarray(0, n));
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        // Lines starting with a space are the record's KEY=value dictionary.
        if (line === '' || line.startsWith(' ')) continue;
        const record = parseKmsgRecord(line);
        if (record) batch.records.push(record);
      }
    }
    return batch;
  }

  /** Closes the file; later reads return nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
