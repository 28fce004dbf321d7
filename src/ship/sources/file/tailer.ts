// One tailed file: its open handle, read offset, lines in progress, the FIFO of batches in flight
// and the checkpoint that advances only over an acknowledged prefix of them.
import type { FileHandle } from 'node:fs/promises';
import { Ack } from '../../ack.ts';
import type { CheckpointStore } from '../../checkpoint.ts';
import type { ComponentContext, LogEntry, Batch } from '../../types.ts';
import { idPrefix, readFingerprint, type TailCheckpoint } from './identity.ts';
import { INVALID_UTF8, LineSplitter, TRUNCATED } from './lines.ts';
import { Multiline, type MultilineOptions } from './multiline.ts';

export interface TailerOptions {
  ctx: ComponentContext;
  store: CheckpointStore;
  key: string;
  path: string;
  fh: FileHandle;
  dev: number;
  ino: number;
  fingerprint: string;
  fingerprintBytes: number;
  /** Configured fingerprint length: a shorter recorded one grows with the file. */
  maxFingerprintBytes: number;
  idPrefix: string;
  offset: number;
  size: number;
  maxLineBytes: number;
  multiline?: MultilineOptions | undefined;
  /** False once another file holds this identity (the inode was reused after release): late acks then leave its checkpoint alone. */
  canSave?: (tailer: Tailer) => boolean;
}

interface InFlight { end: number; done: boolean }

/** A batch of one file with the offset just past its last entry. */
export interface FileBatch { entries: LogEntry[]; end: number }

/** Reads one file chunk by chunk and keeps its checkpoint (see the file source for the life cycle). */
export class Tailer {
  readonly key: string;
  path: string;
  fh: FileHandle | undefined;
  readonly dev: number;
  readonly ino: number;
  /** Next byte to read. */
  offset: number;
  /** Acknowledged bytes: the checkpoint. */
  committed: number;
  size: number;
  /** Bumped when the file is truncated, so acks of the old content do not move the checkpoint. */
  generation = 0;
  /** The last read hit the end of the file (a poll clears it when the file grew). */
  eof = false;
  eofSince = 0;
  /** Not at a matched path any more (renamed away), or deleted: released after EOF and rotate_wait. */
  detached = false;
  deletedAt: number | undefined;
  lastLineAt = 0;
  reading = false;

  readonly #ctx: ComponentContext;
  readonly #store: CheckpointStore;
  readonly #lines: LineSplitter;
  readonly #multiline: Multiline | undefined;
  readonly #maxFingerprintBytes: number;
  readonly #canSave: (tailer: Tailer) => boolean;
  #fingerprint: string;
  #fingerprintBytes: number;
  #idPrefix: string;
  #inflight: InFlight[] = [];
  #forget = false;
  #labels: { component: string; path: string };
  // Per-chunk state the line callbacks write to (one closure per tailer, not per line).
  #out: LogEntry[] = [];
  #outEnd = 0;
  #ts = '';

  constructor(o: TailerOptions) {
    this.key = o.key;
    this.path = o.path;
    this.fh = o.fh;
    this.dev = o.dev;
    this.ino = o.ino;
    this.offset = o.offset;
    this.committed = o.offset;
    this.size = o.size;
    this.#ctx = o.ctx;
    this.#store = o.store;
    this.#lines = new LineSplitter(o.maxLineBytes);
    this.#multiline = o.multiline ? new Multiline(o.multiline) : undefined;
    this.#maxFingerprintBytes = o.maxFingerprintBytes;
    this.#canSave = o.canSave ?? (() => true);
    this.#fingerprint = o.fingerprint;
    this.#fingerprintBytes = o.fingerprintBytes;
    this.#idPrefix = o.idPrefix;
    this.#labels = { component: o.ctx.name, path: o.path };
    this.#gauges();
  }

  get idPrefix(): string {
    return this.#idPrefix;
  }

  /** Batches emitted and not yet acknowledged. */
  get inFlight(): number {
    return this.#inflight.length;
  }

  /** Whether a multiline event waits for more lines. */
  get pendingEvent(): boolean {
    return this.#multiline?.pending === true;
  }

  /** Saves the current checkpoint (committed offset) in the store. */
  save(): void {
    if (!this.#canSave(this)) return;
    if (this.#forget) {
      this.#store.delete(this.key);
      return;
    }
    const cp: TailCheckpoint = {
      dev: this.dev, ino: this.ino, fingerprint: this.#fingerprint, fingerprintBytes: this.#fingerprintBytes,
      offset: this.committed, path: this.path, updated: Date.now(), idPrefix: this.#idPrefix,
    };
    this.#store.set(this.key, cp);
  }

  /** The file is now seen at another matched path. */
  moveTo(path: string): void {
    this.#removeGauges();
    this.path = path;
    this.#labels = { component: this.#ctx.name, path };
    this.#gauges();
  }

  /**
   * Reads one chunk at the read offset into `buf` and turns its complete lines into entries.
   * Returns undefined at EOF; a batch may be empty (lines still partial or in a pending event).
   */
  async read(buf: Buffer): Promise<FileBatch | undefined> {
    const fh = this.fh;
    if (!fh) return undefined;
    this.reading = true;
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, buf.length, this.offset));
    } finally {
      this.reading = false;
    }
    if (bytesRead === 0) {
      if (!this.eof) this.eofSince = Date.now();
      this.eof = true;
      return undefined;
    }
    const start = this.offset;
    this.offset += bytesRead;
    if (this.offset > this.size) this.size = this.offset;
    this.eof = false;
    this.#ctx.metrics.fileOffset.set(this.#labels, this.offset);
    this.#begin();
    this.#lines.push(buf.subarray(0, bytesRead), start, this.#onLine);
    this.#ctx.counters.received(this.#out.length, bytesRead);
    this.lastLineAt = Date.now(); // the multiline timeout counts from the last data read
    return this.#take();
  }

  /** Emits the pending multiline event (its timeout passed with no new line). */
  flushEvent(): FileBatch {
    this.#begin();
    this.#multiline?.flush(this.#onEvent);
    return this.#take();
  }

  /** Everything left when the file is released: the partial last line and a pending event. */
  finish(): FileBatch {
    this.#begin();
    this.#lines.flush(this.#onLine);
    this.#multiline?.flush(this.#onEvent);
    return this.#take();
  }

  /** Wraps a batch's entries with an acknowledgment that advances the checkpoint in order. */
  batch(fb: FileBatch): Batch {
    const item: InFlight = { end: fb.end, done: false };
    this.#inflight.push(item);
    const generation = this.generation;
    const ack = new Ack(() => {
      item.done = true;
      if (generation === this.generation) this.#advance();
    });
    return { entries: fb.entries, ack };
  }

  /**
   * Checks size, truncation (also a rewrite in place that changed the first bytes) and deletion.
   * Returns "truncate" when the file was truncated: reading starts again at 0.
   */
  async poll(now: number): Promise<'truncate' | undefined> {
    const fh = this.fh;
    if (!fh) return undefined;
    const st = await fh.stat();
    if (st.nlink === 0) this.deletedAt ??= now;
    this.size = st.size;
    let truncated = st.size < this.offset;
    if (!truncated && this.#fingerprintBytes > 0) {
      const fp = await readFingerprint(fh, this.#fingerprintBytes);
      truncated = fp.bytes < this.#fingerprintBytes || fp.fingerprint !== this.#fingerprint;
    }
    if (truncated) {
      await this.#truncated(fh, now);
    } else if (this.#fingerprintBytes < this.#maxFingerprintBytes && st.size > this.#fingerprintBytes) {
      const fp = await readFingerprint(fh, this.#maxFingerprintBytes);
      this.#fingerprint = fp.fingerprint;
      this.#fingerprintBytes = fp.bytes;
      this.save();
    }
    if (st.size > this.offset) this.eof = false;
    this.#ctx.metrics.fileSize.set(this.#labels, this.size);
    this.#ctx.metrics.fileLag.set(this.#labels, Math.max(0, this.size - this.committed));
    return truncated ? 'truncate' : undefined;
  }

  /**
   * Closes the handle and removes the file's gauges; acks still in flight keep updating the
   * checkpoint, unless the file was deleted: then its checkpoint goes, so a file that gets the
   * inode next does not inherit it.
   */
  async release(): Promise<void> {
    const fh = this.fh;
    if (this.deletedAt !== undefined) {
      this.#forget = true;
      this.save();
    }
    this.fh = undefined;
    this.#removeGauges();
    await fh?.close().catch(() => undefined);
  }

  async #truncated(fh: FileHandle, now: number): Promise<void> {
    this.generation++;
    this.#inflight = [];
    this.offset = 0;
    this.committed = 0;
    this.eof = false;
    this.#lines.reset();
    this.#multiline?.reset();
    const fp = await readFingerprint(fh, this.#maxFingerprintBytes);
    this.#fingerprint = fp.fingerprint;
    this.#fingerprintBytes = fp.bytes;
    this.#idPrefix = idPrefix(this.dev, this.ino, fp.fingerprint, String(now));
    this.save();
    this.#ctx.metrics.fileOffset.set(this.#labels, 0);
    this.#ctx.metrics.fileCommitted.set(this.#labels, 0);
  }

  #advance(): void {
    let moved = false;
    while (this.#inflight.length > 0 && (this.#inflight[0] as InFlight).done) {
      this.committed = (this.#inflight.shift() as InFlight).end;
      moved = true;
    }
    if (!moved) return;
    this.save();
    if (this.fh) {
      this.#ctx.metrics.fileCommitted.set(this.#labels, this.committed);
      this.#ctx.metrics.fileLag.set(this.#labels, Math.max(0, this.size - this.committed));
    }
  }

  #begin(): void {
    this.#out = [];
    this.#outEnd = 0;
    this.#ts = new Date().toISOString();
  }

  #take(): FileBatch {
    const batch = { entries: this.#out, end: this.#outEnd };
    this.#out = [];
    return batch;
  }

  readonly #onEvent = (text: string, start: number, end: number, flags: number, originalBytes: number): void => {
    const fields: Record<string, unknown> = {};
    if (flags !== 0) {
      if (flags & TRUNCATED) {
        fields.truncated = true;
        if (originalBytes > 0) fields.original_bytes = originalBytes;
      }
      if (flags & INVALID_UTF8) fields.invalid_utf8 = true;
    }
    this.#out.push({ id: `${this.#idPrefix}:${start}`, timestamp: this.#ts, source: this.path, level: 'unknown', message: text, fields });
    this.#outEnd = end;
  };

  readonly #onLine = (text: string, start: number, end: number, flags: number, originalBytes: number): void => {
    if (flags !== 0) {
      if (flags & TRUNCATED) this.#ctx.counters.error('truncated');
      if (flags & INVALID_UTF8) this.#ctx.counters.error('invalid_utf8');
    }
    if (this.#multiline) this.#multiline.line(text, start, end, flags, originalBytes, this.#onEvent);
    else this.#onEvent(text, start, end, flags, originalBytes);
  };

  #gauges(): void {
    const m = this.#ctx.metrics;
    m.fileOffset.set(this.#labels, this.offset);
    m.fileCommitted.set(this.#labels, this.committed);
    m.fileSize.set(this.#labels, this.size);
    m.fileLag.set(this.#labels, Math.max(0, this.size - this.committed));
  }

  #removeGauges(): void {
    const m = this.#ctx.metrics;
    for (const g of [m.fileOffset, m.fileCommitted, m.fileSize, m.fileLag]) g.remove(this.#labels);
  }
}
