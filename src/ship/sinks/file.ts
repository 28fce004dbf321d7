// The file sink: entries appended to a local file kept open, rotated by size (path -> path.1 ...),
// reopened when someone else moved or deleted it.
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { size } from '../../core/config.ts';
import { errnoCode } from '../../core/errors.ts';
import { DeliveryError } from '../../core/retry.ts';
import { sinkKeys } from '../schema.ts';
import type { Definition, LogEntry } from '../types.ts';
import { encodeLines, type MeasuredWriter, type OnBadEntry } from './writer.ts';

const schema = z.strictObject({
  type: z.literal('file'),
  ...sinkKeys,
  /** The file to append to (relative to the config file); missing parent directories are created. */
  path: z.string().min(1),
  /** ndjson: one JSON object per line; text: the message only. */
  encoding: z.enum(['ndjson', 'text']).default('ndjson'),
  /** Rotate before a write would make the file larger than this (a single larger batch still goes to a fresh file). */
  max_size: size().prefault('100MiB'),
  /** Rotated files kept (path.1 is the newest); older ones are deleted. */
  max_files: z.number().int().nonnegative().default(5),
  /** fsync (fdatasync) after each batch: survives a power loss, costs a disk flush per batch. */
  fsync: z.boolean().default(false),
});
export type FileSinkConfig = z.output<typeof schema>;

export interface FileWriterOptions {
  /** Absolute path. */
  path: string;
  encoding: FileSinkConfig['encoding'];
  maxSize: number;
  maxFiles: number;
  fsync: boolean;
  onBad: OnBadEntry;
}

/**
 * Appends batches to one file. Each write first checks (one stat) that the path still names the
 * open file, and reopens it when it was moved or deleted. A failed write is cut back off the file
 * so the retry does not leave half a batch before the whole one.
 */
export class FileWriter implements MeasuredWriter {
  lastBytes: number | undefined;
  #previous: Promise<unknown> = Promise.resolve();
  readonly #options: FileWriterOptions;
  #handle: FileHandle | undefined;
  #ino = 0;
  #dev = 0;
  #size = 0;

  constructor(options: FileWriterOptions) {
    this.#options = options;
  }

  /** Writes one batch; concurrent calls (a fallback shared by several sinks) run one after the other. */
  write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void> {
    const run = this.#previous.then(() => this.#write(entries, signal));
    this.#previous = run.catch(() => undefined);
    return run;
  }

  async #write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void> {
    if (entries.length === 0) return;
    signal.throwIfAborted();
    const { path, encoding, maxSize, fsync, onBad } = this.#options;
    const body = Buffer.from(encodeLines(entries, encoding, onBad));
    /** Set once bytes may have reached the file, to cut them off again on failure. */
    let started: { handle: FileHandle; size: number } | undefined;
    try {
      let handle = await this.#current();
      if (this.#size > 0 && this.#size + body.length > maxSize) {
        await this.#rotate();
        handle = await this.#current();
      }
      started = { handle, size: this.#size };
      let done = 0;
      while (done < body.length) {
        const { bytesWritten } = await handle.write(body, done, body.length - done);
        done += bytesWritten;
      }
      if (fsync) await handle.datasync();
      this.#size = started.size + body.length;
      this.lastBytes = body.length;
    } catch (err) {
      if (started !== undefined) await this.#abandon(started.handle, started.size);
      const code = errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
      throw new DeliveryError(`write ${path}: ${code}`, { retryable: true, details: { error: code, path }, cause: err });
    }
  }

  async close(): Promise<void> {
    await this.#previous;
    await this.#closeFile();
  }

  async #closeFile(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /** The open file, reopened when the path no longer names it. */
  async #current(): Promise<FileHandle> {
    const { path } = this.#options;
    if (this.#handle !== undefined) {
      const st = await stat(path).catch(() => undefined);
      if (st !== undefined && st.ino === this.#ino && st.dev === this.#dev) {
        this.#size = st.size; // someone may have truncated it (copytruncate)
        return this.#handle;
      }
      await this.#closeFile().catch(() => undefined);
    }
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, 'a');
    const st = await handle.stat();
    this.#handle = handle;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.#size = st.size;
    return handle;
  }

  /** path.N-1 -> path.N ... path -> path.1, dropping what falls past max_files. */
  async #rotate(): Promise<void> {
    const { path, maxFiles } = this.#options;
    await this.#closeFile();
    await rm(`${path}.${maxFiles}`, { force: true });
    for (let n = maxFiles - 1; n >= 1; n--) {
      await rename(`${path}.${n}`, `${path}.${n + 1}`).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err;
      });
    }
    if (maxFiles > 0) await rename(path, `${path}.1`);
    else await rm(path, { force: true });
  }

  /** After a failed write: cut the partial batch off (best effort) and reopen on the next write. */
  async #abandon(handle: FileHandle, size: number): Promise<void> {
    await handle.truncate(size).catch(() => undefined);
    if (this.#handle === handle) this.#handle = undefined;
    await handle.close().catch(() => undefined);
  }
}

/** `[sinks.archive] type = "file"`: see the schema for keys and defaults. */
export const file = {
  schema,
  create(config, ctx): MeasuredWriter {
    return new FileWriter({
      path: resolve(ctx.configDir, config.path),
      encoding: config.encoding,
      maxSize: config.max_size,
      maxFiles: config.max_files,
      fsync: config.fsync,
      onBad: () => { ctx.counters.error('encode'); },
    });
  },
} satisfies Definition<typeof schema, MeasuredWriter>;
