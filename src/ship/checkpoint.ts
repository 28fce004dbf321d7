// Checkpoints: read offsets per file identity, written atomically (temp file, fsync, rename) and
// only with offsets every sink downstream acknowledged. One JSON file per file source.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { errnoCode } from '../core/errors.ts';
import type { ShipMetrics } from './metrics.ts';

/** What is saved for one file identity. */
export interface FileCheckpoint {
  dev: number;
  ino: number;
  /** Hex digest of the file's first `fingerprintBytes` bytes. */
  fingerprint: string;
  fingerprintBytes: number;
  /** Bytes acknowledged downstream: reading resumes here. */
  offset: number;
  /** Last path it was seen at (informational). */
  path: string;
  /** When it was last updated (ms since epoch); old entries of vanished files are pruned. */
  updated: number;
  /** Identity part of entry ids, kept so ids survive a restart. */
  idPrefix?: string;
}

interface FileFormat { version: 1; files: Record<string, FileCheckpoint> }

export interface CheckpointStoreOptions {
  file: string;
  log: Logger;
  metrics?: ShipMetrics | undefined;
  /** Least time between two writes (default 0: write as soon as the previous write ended). */
  intervalMs?: number;
}

/**
 * Offsets by identity key, saved in the background after each change (coalesced: at most one write
 * in flight, one more queued). A crash loses at most the changes since the last write, which
 * were acknowledged: they are shipped again (at-least-once), never skipped.
 */
export class CheckpointStore {
  readonly #file: string;
  readonly #log: Logger;
  readonly #metrics: ShipMetrics | undefined;
  readonly #intervalMs: number;
  readonly #entries = new Map<string, FileCheckpoint>();
  #dirty = false;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CheckpointStoreOptions) {
    this.#file = options.file;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#intervalMs = options.intervalMs ?? 0;
    mkdirSync(dirname(this.#file), { recursive: true });
    for (const [key, cp] of Object.entries(readCheckpoints(this.#file, this.#log))) this.#entries.set(key, cp);
  }

  get file(): string {
    return this.#file;
  }

  get(key: string): FileCheckpoint | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<[string, FileCheckpoint]> {
    return this.#entries.entries();
  }

  /** Records an identity's checkpoint and schedules a write. */
  set(key: string, checkpoint: FileCheckpoint): void {
    this.#entries.set(key, checkpoint);
    this.#schedule();
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#schedule();
  }

  /** Writes now if anything changed, and waits for it. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing) await this.#writing;
    if (this.#dirty) await this.#write();
  }

  /** Final flush; later changes are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#timer !== undefined || this.#writing !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, this.#intervalMs);
  }

  #write(): Promise<void> {
    this.#writing ??= (async () => {
      this.#dirty = false;
      const data: FileFormat = { version: 1, files: Object.fromEntries(this.#entries) };
      try {
        await writeAtomic(this.#file, JSON.stringify(data));
        this.#metrics?.checkpointWrites.inc();
      } catch (err) {
        this.#dirty = true;
        this.#metrics?.checkpointErrors.inc();
        this.#log.error({ err, file: this.#file }, 'cannot write checkpoint');
      } finally {
        this.#writing = undefined;
      }
      if (this.#dirty && !this.#closed) this.#schedule();
    })();
    return this.#writing;
  }
}

/** Reads a checkpoint file; a missing file is empty, a corrupt one is logged and treated as empty. */
export function readCheckpoints(file: string, log: Logger): Record<string, FileCheckpoint> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') log.warn({ err, file }, 'cannot read checkpoint file, starting without it');
    return {};
  }
  try {
    const data = JSON.parse(text) as Partial<FileFormat>;
    if (data.version === 1 && typeof data.files === 'object' && data.files !== null) return data.files;
  } catch {
    // fall through
  }
  log.warn({ file }, 'checkpoint file is not valid, starting without it');
  return {};
}

/** Writes `text` to `file` so that a crash leaves either the old or the new content: temp file, fsync, rename, fsync of the directory. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
