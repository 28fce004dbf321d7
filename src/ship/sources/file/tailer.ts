// One tailed file: its open handle, read offset, lines in progress, the FIFO of batches in flight
// and the checkpoint that advances only over an acknowledged prefix of them. It keeps the last
// bytes before its read offset and reads them again with each chunk: if they changed, the file was
// rewritten in place (truncated and grown past the offset between two polls, say) and is read from 0.
import type { FileHandle } from 'node:fs/promises';
import { Ack } from '../../ack.ts';
import type { CheckpointStore } from '../../checkpoint.ts';
import type { ComponentContext, LogEntry, Batch } from '../../types.ts';
import { newIdPrefix, readFingerprint, tailMark, type TailCheckpoint, type TailMark } from './identity.ts';
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
  /** The file's bytes just before `offset` (at most maxFingerprintBytes; see readBefore). */
  before?: Buffer;
  /** The checkpoint's tail mark, kept when `before` gives none. */
  tail?: TailMark | undefined;
  size: number;
  maxLineBytes: number;
  multiline?: MultilineOptions | undefined;
  /** The acknowledged offset when it is before `offset` (batches in between are `inherit`ed). */
  committed?: number | undefined;
  /** Batches in flight of a truncated file's old content that this copy of it takes over (they end at `offset`). */
  inherit?: InFlight[] | undefined;
  /** False once another file holds this identity (the inode was reused after release): late acks then leave its checkpoint alone. */
  canSave?: (tailer: Tailer) => boolean;
}

/**
 * A batch emitted and not yet acknowledged. Its acknowledgment advances `owner`'s checkpoint while
 * `generation` is the owner's: a truncation bumps the generation (old acks no longer count), and a
 * copy of the old content that takes the batches over becomes their owner.
 */
export interface InFlight { end: number; done: boolean; tail: TailMark | undefined; owner: Tailer; generation: number }

/** What a truncated file leaves for a copy of its old content to take over (see FileSource). */
export interface TruncatedContent {
  /** The checkpoint of the old content: its acknowledged offset. */
  checkpoint: TailCheckpoint;
  /** Its batches still in flight, in order: a copy that takes them over reads on after the last. */
  inflight: InFlight[];
  /** Set once a copy took the batches over. */
  claimed: boolean;
}

/** A batch of one file with the offset just past its last entry, and the tail mark there when the bytes were at hand. */
export interface FileBatch { entries: LogEntry[]; end: number; tail?: TailMark | undefined }

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
  /**
   * The checkpoint the file had when it was last found truncated (its acknowledged offset in the
   * old content): the source looks for a copy of that content (copytruncate) to read the rest from.
   */
  truncatedFrom: TruncatedContent | undefined;

  readonly #ctx: ComponentContext;
  readonly #store: CheckpointStore;
  readonly #lines: LineSplitter;
  readonly #multiline: Multiline | undefined;
  readonly #maxFingerprintBytes: number;
  readonly #canSave: (tailer: Tailer) => boolean;
  #fingerprint: string;
  #fingerprintBytes: number;
  #idPrefix: string;
  /** The tail mark saved with the checkpoint: of the bytes before `committed` (or before an earlier end). */
  #tail: TailMark | undefined;
  /** The last up-to-maxFingerprintBytes bytes before `offset`: #window[0, #windowLen). */
  readonly #window: Buffer;
  #windowLen = 0;
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
    this.committed = o.committed ?? o.offset;
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
    this.#window = Buffer.alloc(o.maxFingerprintBytes);
    const before = o.before?.subarray(-o.maxFingerprintBytes) ?? Buffer.alloc(0);
    this.#windowLen = before.copy(this.#window);
    // The mark saved with the checkpoint is of the bytes before `committed`.
    this.#tail = (this.committed === o.offset ? tailMark(before, o.offset - before.length, o.offset, o.maxFingerprintBytes) : undefined) ?? o.tail;
    this.#labels = { component: o.ctx.name, path: o.path };
    this.#gauges();
    if (o.inherit) {
      for (const item of o.inherit) {
        item.owner = this;
        item.generation = this.generation;
      }
      this.#inflight = [...o.inherit];
      this.#advance(); // those acknowledged meanwhile
    }
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

  /** The current checkpoint: the committed offset with the identity and marks that check it. */
  checkpoint(): TailCheckpoint {
    const cp: TailCheckpoint = {
      dev: this.dev, ino: this.ino, fingerprint: this.#fingerprint, fingerprintBytes: this.#fingerprintBytes,
      offset: this.committed, path: this.path, updated: Date.now(), idPrefix: this.#idPrefix,
    };
    if (this.#tail) cp.tail = this.#tail;
    return cp;
  }

  /** Saves the current checkpoint (committed offset) in the store. */
  save(): void {
    if (!this.#canSave(this)) return;
    if (this.#forget) {
      this.#store.delete(this.key);
      return;
    }
    this.#store.set(this.key, this.checkpoint());
  }

  /**
   * Gives the open handle away (a reload hands a renamed or deleted file to the next pipeline, which
   * reads it on from the checkpoint): this tailer then has no file, and its checkpoint stays saved.
   * Call it once the old pipeline stopped, so `committed` has every acknowledgment.
   */
  handOff(): { fh: FileHandle; checkpoint: TailCheckpoint; size: number; detached: boolean; deletedAt: number | undefined } | undefined {
    const fh = this.fh;
    if (!fh) return undefined;
    this.fh = undefined;
    this.#removeGauges();
    return { fh, checkpoint: this.checkpoint(), size: this.size, detached: this.detached, deletedAt: this.deletedAt };
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
   * Returns undefined at EOF; a batch may be empty (lines still partial or in a pending event, or
   * the file found rewritten: reading starts again at 0).
   */
  async read(buf: Buffer): Promise<FileBatch | undefined> {
    const fh = this.fh;
    if (!fh) return undefined;
    // The chunk comes with the `w` bytes before the offset, read again (same read, no extra cost).
    const w = Math.min(this.#windowLen, buf.length >> 1);
    const start = this.offset;
    this.reading = true;
    let got: number;
    try {
      ({ bytesRead: got } = await fh.read(buf, 0, buf.length, start - w));
      if (w > 0 && got >= w && !this.#sameBefore(buf.subarray(0, w))) {
        await this.#truncated(fh, 'rewritten');
        return { entries: [], end: 0 };
      }
    } finally {
      this.reading = false;
    }
    // Nothing past the offset: EOF (or fewer bytes than up to it: truncated, which the next poll handles).
    const bytesRead = Math.max(0, got - w);
    if (bytesRead === 0) {
      if (!this.eof) this.eofSince = Date.now();
      this.eof = true;
      return undefined;
    }
    this.offset += bytesRead;
    if (this.offset > this.size) this.size = this.offset;
    this.eof = false;
    this.#ctx.metrics.fileOffset.set(this.#labels, this.offset);
    this.#begin();
    this.#lines.push(buf.subarray(w, got), start, this.#onLine);
    this.#ctx.counters.received(this.#out.length, bytesRead);
    this.lastLineAt = Date.now(); // the multiline timeout counts from the last data read
    const fb = this.#take(buf.subarray(0, got), start - w);
    const keep = Math.min(this.#window.length, got);
    this.#windowLen = buf.copy(this.#window, 0, got - keep, got);
    return fb;
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
    const item: InFlight = { end: fb.end, done: false, tail: fb.tail, owner: this, generation: this.generation };
    this.#inflight.push(item);
    const ack = new Ack(() => {
      item.done = true;
      if (item.generation === item.owner.generation) item.owner.#advance();
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
      await this.#truncated(fh, 'truncated');
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

  /** The file was truncated or rewritten in place (same inode, other content): counted as a copytruncate rotation, read from 0 with new ids. */
  async #truncated(fh: FileHandle, how: 'truncated' | 'rewritten'): Promise<void> {
    this.truncatedFrom = { checkpoint: this.checkpoint(), inflight: this.#inflight, claimed: false };
    this.generation++;
    this.#inflight = [];
    this.offset = 0;
    this.committed = 0;
    this.eof = false;
    this.#windowLen = 0;
    this.#tail = undefined;
    this.#lines.reset();
    this.#multiline?.reset();
    const fp = await readFingerprint(fh, this.#maxFingerprintBytes);
    this.#fingerprint = fp.fingerprint;
    this.#fingerprintBytes = fp.bytes;
    this.#idPrefix = newIdPrefix();
    this.save();
    // The new identity is on disk before an entry carries it: a crash right after cannot give the
    // same bytes other ids on the next start.
    await this.#store.flush();
    this.#ctx.metrics.fileOffset.set(this.#labels, 0);
    this.#ctx.metrics.fileCommitted.set(this.#labels, 0);
    this.#ctx.metrics.fileRotations.inc({ component: this.#ctx.name, how: 'truncate' });
    this.#ctx.log.debug({ path: this.path }, how === 'truncated' ? 'file truncated' : 'file rewritten in place (the bytes before the read offset changed)');
  }

  /** Whether `bytes`, read again just before the offset, are what was read there (no check while the kept bytes hold a NUL: see tailMark). */
  #sameBefore(bytes: Buffer): boolean {
    const kept = this.#window.subarray(this.#windowLen - bytes.length, this.#windowLen);
    return kept.includes(0) || kept.equals(bytes);
  }

  #advance(): void {
    let moved = false;
    while (this.#inflight.length > 0 && (this.#inflight[0] as InFlight).done) {
      const item = this.#inflight.shift() as InFlight;
      this.committed = item.end;
      if (item.tail) this.#tail = item.tail; // else the previous mark (an earlier end) stays
      moved = true;
    }
    if (!moved) return;
    this.save();
    if (this.fh) {
      this.#ctx.metrics.fileCommitted.set(this.#labels, this.committed);
      this.#ctx.metrics.fileLag.set(this.#labels, Math.max(0, this.size - this.committed));
    }
  }

  /** A size seen by a stat outside a read or poll (while the source is blocked): the size and lag gauges follow. */
  observeSize(size: number): void {
    this.size = size;
    this.#ctx.metrics.fileSize.set(this.#labels, size);
    this.#ctx.metrics.fileLag.set(this.#labels, Math.max(0, size - this.committed));
  }

  #begin(): void {
    this.#out = [];
    this.#outEnd = 0;
    this.#ts = new Date().toISOString();
  }

  /** The entries made since #begin, with the tail mark at their end taken from `bytes` (the file's bytes from `at`; by default those kept before the offset). */
  #take(bytes: Uint8Array = this.#window.subarray(0, this.#windowLen), at = this.offset - this.#windowLen): FileBatch {
    const entries = this.#out;
    this.#out = [];
    const end = this.#outEnd;
    return { entries, end, tail: entries.length > 0 ? tailMark(bytes, at, end, this.#window.length) : undefined };
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
