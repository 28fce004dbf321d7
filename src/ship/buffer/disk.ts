// The disk sink buffer: entries appended to NDJSON segment files and fsynced before their acks
// complete, and a reader state file saying where the unsent entries start, so they survive a restart.
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errnoCode } from '../../core/errors.ts';
import type { Ack } from '../ack.ts';
import { encodeEntry, encodeNdjson, entrySize } from '../encode.ts';
import type { ShipMetrics } from '../metrics.ts';
import type { LogEntry } from '../types.ts';
import { completeAck, PendingTake } from './memory.ts';
import type { WhenFull } from './memory.ts';
import { createSegment, newline, readChunk, recoverSegments, segmentIds, segmentName, segmentPath } from './segments.ts';
import type { Position, Segment } from './segments.ts';
import { loadState, removeStateTemps, saveState, statePath } from './state.ts';
import type { SinkBuffer, Taken } from './types.ts';

export interface DiskBufferOptions {
  sink: string;
  /** The buffer's own directory (`<dataDir>/buffers/<sink>`), created if missing. */
  dir: string;
  /** Most bytes of uncommitted entries on disk. */
  maxBytes: number;
  whenFull: WhenFull;
  metrics: ShipMetrics;
  log: Logger;
  /** Size at which a new segment is started (default maxBytes / 8, within 4 KiB..16 MiB). */
  segmentBytes?: number;
}

interface Queued {
  data: Buffer;
  events: number;
  ack: Ack;
}

interface Blocked extends Queued {
  resolve: (admitted: boolean) => void;
}

interface InFlight {
  taken: Taken;
  end: Position;
  /** Lines (events) and on-disk bytes the take covers, unparsable lines included. */
  events: number;
  bytes: number;
}

interface ReadMark {
  read: Position;
  events: number;
  bytes: number;
}

/**
 * A bounded queue of entries on disk (max_bytes of unsent data). A push is admitted at once when
 * there is room (its promise resolves then); its entries are appended to the current segment and
 * fsynced, concurrent pushes sharing one write, and only then is its ack completed: from there on
 * the entries survive a crash and the upstream checkpoint may move past them. Commits move the
 * reader state (written in the background, at most one write in flight), and segments read to the
 * end are deleted once the state past them is on disk. A crash replays what was committed since
 * the last state write (duplicates, never losses).
 * @example
 *   const buf = await DiskBuffer.open({ sink: 'loki', dir, maxBytes: 32 << 20, whenFull: 'block', metrics, log });
 */
export class DiskBuffer implements SinkBuffer {
  readonly #dir: string;
  readonly #stateFile: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #whenFull: WhenFull;
  readonly #log: Logger;
  readonly #metrics: ShipMetrics;
  readonly #sink: string;
  readonly #eventsGauge: { set(value: number): void };
  readonly #bytesGauge: { set(value: number): void };
  readonly #closing = new AbortController();
  /** Live segments, oldest first; the last one is the one written to. */
  readonly #segments: Segment[];
  /** Admitted and not committed: the bound and the gauges. */
  #events = 0;
  #bytes = 0;
  /** Written, fsynced and not yet taken. */
  #readableEvents = 0;
  #readableBytes = 0;
  #writer: { segment: Segment; fh: FileHandle } | undefined;
  readonly #queue: Queued[] = [];
  #writing: Promise<void> | undefined;
  readonly #blocked: Blocked[] = [];
  #read: Position;
  /** Bytes of the read segment from `#read.offset` on, read ahead of the next take. */
  #pending: Buffer = Buffer.alloc(0);
  #readFh: { id: number; fh: FileHandle } | undefined;
  #committed: Position;
  #stateDirty = false;
  #stateWriting: Promise<void> | undefined;
  #take: PendingTake | undefined;
  #cutting = false;
  #inFlight: InFlight | undefined;
  /** Id of the next segment to create (above every id seen and the reader's). */
  #nextId: number;
  #ended = false;
  #closed = false;

  private constructor(options: DiskBufferOptions, segments: Segment[], start: Position, events: number, bytes: number) {
    this.#dir = options.dir;
    this.#stateFile = statePath(options.dir);
    this.#maxBytes = Math.max(1, options.maxBytes);
    this.#segmentBytes = options.segmentBytes ?? Math.min(16 << 20, Math.max(4096, Math.floor(this.#maxBytes / 8)));
    this.#whenFull = options.whenFull;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#sink = options.sink;
    const labels = { sink: options.sink };
    this.#eventsGauge = options.metrics.bufferEvents.labels(labels);
    this.#bytesGauge = options.metrics.bufferBytes.labels(labels);
    options.metrics.bufferMaxBytes.set(labels, this.#maxBytes);
    this.#segments = segments;
    this.#read = { ...start };
    this.#committed = { ...start };
    this.#nextId = Math.max((segments.at(-1)?.id ?? 0) + 1, start.segment);
    this.#events = this.#readableEvents = events;
    this.#bytes = this.#readableBytes = bytes;
    this.#gauges();
  }

  /** Opens (creating it if needed) a buffer directory and recovers what it holds: the entries after the reader state, a torn last line cut away. */
  static async open(options: DiskBufferOptions): Promise<DiskBuffer> {
    const { dir, log } = options;
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    await removeStateTemps(dir, names);
    const state = await loadState(statePath(dir), log);
    const { segments, start, events, bytes } = await recoverSegments(options, segmentIds(names), state);
    if (events > 0) log.info({ dir, events, bytes, segments: segments.length }, 'disk buffer recovered');
    return new DiskBuffer(options, segments, start, events, bytes);
  }

  get events(): number {
    return this.#events;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Resolves once the entries are admitted (not once they are on disk: the ack says that). After
   * end() or close() the push is refused: resolves false and leaves the ack incomplete.
   */
  push(entries: LogEntry[], ack: Ack): Promise<boolean> {
    if (this.#ended || this.#closed) return Promise.resolve(false);
    if (entries.length === 0) {
      completeAck(ack, this.#log);
      return Promise.resolve(true);
    }
    const item = this.#encode(entries, ack);
    if (item === undefined) {
      completeAck(ack, this.#log); // nothing encodable: the entries are dropped (and counted)
      return Promise.resolve(true);
    }
    if (this.#blocked.length === 0 && this.#fits(item.data.length)) {
      this.#admit(item);
      return Promise.resolve(true);
    }
    if (this.#whenFull === 'drop_newest') {
      completeAck(ack, this.#log);
      return Promise.resolve(false);
    }
    const admitted = new Promise<boolean>((resolve) => this.#blocked.push({ ...item, resolve }));
    this.#check(); // a take waiting for more entries gets what there is: no more fit until it is served
    return admitted;
  }

  take(maxEvents: number, maxBytes: number, timeoutMs: number, signal: AbortSignal): Promise<Taken | undefined> {
    if (this.#take !== undefined || this.#inFlight !== undefined) return Promise.reject(new Error('take while another take is outstanding'));
    if (this.#closed) return Promise.resolve(undefined);
    const take = new PendingTake(maxEvents, maxBytes, timeoutMs, signal, () => { this.#check(); });
    if (take.settled) return take.promise;
    this.#take = take;
    const forget = (): void => {
      if (this.#take === take) this.#take = undefined;
    };
    void take.promise.then(forget, forget);
    this.#check();
    return take.promise;
  }

  /** Moves the reader past the taken entries; the state file follows in the background. */
  commit(taken: Taken): Promise<void> {
    const inFlight = this.#inFlight;
    if (inFlight === undefined || inFlight.taken !== taken) return Promise.reject(new Error('commit of entries that are not in flight'));
    this.#inFlight = undefined;
    this.#advance(inFlight.end, inFlight.events, inFlight.bytes);
    this.#check();
    return Promise.resolve();
  }

  end(): void {
    this.#ended = true;
    this.#check();
  }

  /**
   * Finishes queued writes (completing their acks), saves the reader state and closes the files.
   * Blocked pushes resolve false with their acks incomplete; entries taken and not committed are
   * read again on the next start.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    for (const b of this.#blocked.splice(0)) b.resolve(false);
    this.#take?.settle(undefined);
    this.#closing.abort(); // failing writes and the state loop give up; healthy writes finish
    while (this.#writing) await this.#writing;
    while (this.#stateWriting) await this.#stateWriting;
    if (this.#stateDirty) await this.#writeState();
    await this.#writer?.fh.close().catch(() => undefined);
    await this.#readFh?.fh.close().catch(() => undefined);
    this.#writer = undefined;
    this.#readFh = undefined;
  }

  /** The entries as NDJSON; an entry JSON cannot encode (a BigInt, a cycle in its fields) is dropped and counted. */
  #encode(entries: LogEntry[], ack: Ack): Queued | undefined {
    try {
      return { data: Buffer.from(encodeNdjson(entries)), events: entries.length, ack };
    } catch {
      let text = '';
      let events = 0;
      for (const e of entries) {
        try {
          text += encodeEntry(e) + '\n';
          events++;
        } catch (err) {
          this.#log.warn({ err, id: e.id }, 'entry cannot be encoded for the disk buffer, dropped');
          this.#metrics.errors.inc({ component: this.#sink, kind: 'sink', error: 'buffer_encode' });
          this.#metrics.dropped.inc({ component: this.#sink, kind: 'sink', reason: 'unencodable' });
        }
      }
      return events === 0 ? undefined : { data: Buffer.from(text), events, ack };
    }
  }

  #fits(bytes: number): boolean {
    // An empty buffer takes any push, however large: a push over the bound must not wait forever.
    return this.#events === 0 || this.#bytes + bytes <= this.#maxBytes;
  }

  #admit(item: Queued): void {
    this.#events += item.events;
    this.#bytes += item.data.length;
    this.#gauges();
    this.#queue.push(item);
    this.#writing ??= this.#writeLoop();
  }

  #admitBlocked(): void {
    while (this.#blocked.length > 0 && !this.#closed) {
      const next = this.#blocked[0] as Blocked;
      if (!this.#fits(next.data.length)) return;
      this.#blocked.shift();
      this.#admit(next);
      next.resolve(true);
    }
  }

  /** Writes what is queued, one write and one fsync per round, then completes those acks. */
  async #writeLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // One write per round, cut where the segment would be full so that segments stay near their size.
        const room = this.#writer === undefined || this.#writer.segment.size >= this.#segmentBytes
          ? this.#segmentBytes : this.#segmentBytes - this.#writer.segment.size;
        let n = 0;
        for (let size = 0; n < this.#queue.length && (n === 0 || size + (this.#queue[n] as Queued).data.length <= room); n++) {
          size += (this.#queue[n] as Queued).data.length;
        }
        const batch = this.#queue.splice(0, n);
        const data = batch.length === 1 ? (batch[0] as Queued).data : Buffer.concat(batch.map((q) => q.data));
        if (!(await this.#appendDurably(data))) return;
        for (const q of batch) {
          this.#readableEvents += q.events;
          completeAck(q.ack, this.#log);
        }
        this.#readableBytes += data.length;
        this.#check();
      }
    } finally {
      this.#writing = undefined;
      this.#check(); // an ended buffer may be finished now
    }
  }

  /** Appends and fsyncs, retrying (with the file cut back to its last good size) until it works or the buffer closes. */
  async #appendDurably(data: Buffer): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      let writer: { segment: Segment; fh: FileHandle } | undefined;
      try {
        writer = await this.#writeSegment();
        let done = 0;
        while (done < data.length) done += (await writer.fh.write(data, done, data.length - done)).bytesWritten;
        await writer.fh.sync();
        writer.segment.size += data.length;
        return true;
      } catch (err) {
        this.#log.error({ err, dir: this.#dir, attempt }, 'cannot write disk buffer');
        this.#metrics.errors.inc({ component: this.#sink, kind: 'sink', error: 'buffer_write' });
        await writer?.fh.truncate(writer.segment.size).catch(() => undefined);
        if (this.#closing.signal.aborted) return false;
        try {
          await sleep(Math.min(10_000, 500 * attempt), undefined, { signal: this.#closing.signal });
        } catch {
          return false;
        }
      }
    }
  }

  /** The segment to append to, starting a new one on the first write and when the current one is full. */
  async #writeSegment(): Promise<{ segment: Segment; fh: FileHandle }> {
    if (this.#writer !== undefined && this.#writer.segment.size < this.#segmentBytes) return this.#writer;
    const segment = { id: this.#nextId++, size: 0 };
    const fh = await createSegment(this.#dir, segment.id);
    const previous = this.#writer;
    this.#writer = { segment, fh };
    this.#segments.push(segment);
    await previous?.fh.close();
    return this.#writer;
  }

  /** Serves the pending take if it is ready (reading from disk in the background). */
  #check(): void {
    const take = this.#take;
    if (take === undefined || this.#cutting || this.#inFlight !== undefined) return;
    const finished = this.#ended && this.#blocked.length === 0 && this.#writing === undefined;
    const state = take.state(this.#readableEvents, this.#readableBytes, finished, this.#blocked.length > 0);
    if (state === 'wait') return;
    if (state === 'none') {
      this.#take = undefined;
      take.settle(undefined);
      return;
    }
    this.#cutting = true;
    void this.#serve(take);
  }

  async #serve(take: PendingTake): Promise<void> {
    const mark: ReadMark = { read: { ...this.#read }, events: this.#readableEvents, bytes: this.#readableBytes };
    try {
      const cut = await this.#cut(take);
      if (take.settled) {
        this.#rewind(mark); // aborted or closed while reading: the entries stay unread
      } else if (cut.taken === undefined) {
        this.#advance(cut.end, cut.events, cut.bytes); // nothing but unparsable lines: drop them, wait on
      } else {
        this.#take = undefined;
        this.#inFlight = { taken: cut.taken, end: cut.end, events: cut.events, bytes: cut.bytes };
        take.settle(cut.taken);
      }
    } catch (err) {
      this.#rewind(mark);
      this.#take = undefined;
      take.fail(err);
    } finally {
      this.#cutting = false;
    }
    this.#check();
  }

  /** Reads the next entries for a take; unparsable lines are skipped (counted, logged) but covered by the end position. */
  async #cut(take: PendingTake): Promise<{ taken: Taken | undefined; end: Position; events: number; bytes: number }> {
    const entries: LogEntry[] = [];
    let bytes = 0;
    let lines = 0;
    let diskBytes = 0;
    let corrupt = 0;
    let full = false;
    while (!full && entries.length < take.maxEvents && this.#readableEvents > 0) {
      const first = await this.#peekLine();
      if (first === undefined) {
        this.#log.error({ dir: this.#dir, events: this.#readableEvents }, 'disk buffer has fewer lines than counted');
        this.#readableEvents = 0;
        this.#readableBytes = 0;
        break;
      }
      const want = Math.min(take.maxEvents - entries.length, this.#readableEvents);
      const ends = [first.length];
      for (let nl = first.length; ends.length < want;) {
        nl = this.#pending.indexOf(newline, nl + 1);
        if (nl < 0) break;
        ends.push(nl);
      }
      const parsed = parseLines(this.#pending, ends);
      let used = 0;
      for (; used < ends.length; used++) {
        const entry = parsed[used];
        if (entry === undefined) {
          corrupt++;
          continue;
        }
        const size = entrySize(entry);
        if (entries.length > 0 && bytes + size > take.maxBytes) {
          full = true;
          break;
        }
        entries.push(entry);
        bytes += size;
      }
      const consumed = used === 0 ? 0 : (ends[used - 1] as number) + 1;
      this.#pending = this.#pending.subarray(consumed);
      this.#read.offset += consumed;
      this.#readableEvents -= used;
      this.#readableBytes -= consumed;
      lines += used;
      diskBytes += consumed;
    }
    if (corrupt > 0) {
      this.#log.warn({ dir: this.#dir, segment: this.#read.segment, lines: corrupt }, 'disk buffer lines are not entries, skipped');
      this.#metrics.errors.inc({ component: this.#sink, kind: 'sink', error: 'buffer_corrupt_line' }, corrupt);
    }
    const taken = entries.length > 0 ? { entries, bytes } : undefined;
    return { taken, end: { ...this.#read }, events: lines, bytes: diskBytes };
  }

  /** The next whole line (without its newline) at the read position, reading ahead in chunks and across segments. */
  async #peekLine(): Promise<Buffer | undefined> {
    for (;;) {
      const nl = this.#pending.indexOf(newline);
      if (nl >= 0) return this.#pending.subarray(0, nl);
      const index = this.#segments.findIndex((s) => s.id >= this.#read.segment);
      const segment = this.#segments[index];
      if (segment === undefined) return undefined;
      if (segment.id !== this.#read.segment) {
        this.#moveTo(segment.id);
        continue;
      }
      const pos = this.#read.offset + this.#pending.length;
      if (pos >= segment.size) {
        const next = this.#segments[index + 1];
        if (next === undefined) return undefined;
        if (this.#pending.length > 0) {
          this.#log.warn({ dir: this.#dir, segment: segment.id, bytes: this.#pending.length }, 'disk buffer segment ends without a newline, skipped');
          this.#metrics.errors.inc({ component: this.#sink, kind: 'sink', error: 'buffer_corrupt_line' });
        }
        this.#moveTo(next.id);
        continue;
      }
      const fh = await this.#readHandle(segment.id);
      const chunk = Buffer.allocUnsafe(Math.min(readChunk, segment.size - pos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) throw new Error(`disk buffer segment ${segmentName(segment.id)} is shorter than written`);
      const got = chunk.subarray(0, bytesRead);
      this.#pending = this.#pending.length === 0 ? got : Buffer.concat([this.#pending, got]);
    }
  }

  #moveTo(segment: number): void {
    this.#read = { segment, offset: 0 };
    this.#pending = Buffer.alloc(0);
  }

  async #readHandle(id: number): Promise<FileHandle> {
    if (this.#readFh?.id === id) return this.#readFh.fh;
    const previous = this.#readFh;
    this.#readFh = undefined;
    await previous?.fh.close().catch(() => undefined);
    const fh = await open(segmentPath(this.#dir, id), 'r');
    this.#readFh = { id, fh };
    return fh;
  }

  #rewind(mark: ReadMark): void {
    this.#read = { ...mark.read };
    this.#readableEvents = mark.events;
    this.#readableBytes = mark.bytes;
    this.#pending = Buffer.alloc(0);
  }

  /** Commits up to `end`: frees room, wakes blocked pushes, schedules the state write. */
  #advance(end: Position, events: number, bytes: number): void {
    this.#committed = { ...end };
    this.#events -= events;
    this.#bytes -= bytes;
    this.#gauges();
    this.#admitBlocked();
    this.#stateDirty = true;
    this.#stateWriting ??= this.#stateLoop();
  }

  async #stateLoop(): Promise<void> {
    try {
      while (this.#stateDirty && !this.#closing.signal.aborted) {
        if (!(await this.#writeState())) return;
      }
    } finally {
      this.#stateWriting = undefined;
    }
  }

  /** Writes the committed position, then deletes the segments before it. */
  async #writeState(): Promise<boolean> {
    this.#stateDirty = false;
    const pos = this.#normalized(this.#committed);
    try {
      await saveState(this.#stateFile, pos);
    } catch (err) {
      this.#stateDirty = true; // retried on the next commit or at close
      this.#log.error({ err, file: this.#stateFile }, 'cannot write disk buffer state');
      this.#metrics.errors.inc({ component: this.#sink, kind: 'sink', error: 'buffer_state_write' });
      return false;
    }
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).id < pos.segment) {
      const old = this.#segments.shift() as Segment;
      await unlink(segmentPath(this.#dir, old.id)).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') this.#log.warn({ err, segment: old.id }, 'cannot delete disk buffer segment');
      });
    }
    return true;
  }

  /** A position at the end of a finished segment is the start of the next one (so the old one can go). */
  #normalized(pos: Position): Position {
    let out = pos;
    for (let i = 0; i < this.#segments.length - 1; i++) {
      const s = this.#segments[i] as Segment;
      if (s.id === out.segment && out.offset >= s.size) out = { segment: (this.#segments[i + 1] as Segment).id, offset: 0 };
    }
    return out;
  }

  #gauges(): void {
    this.#eventsGauge.set(this.#events);
    this.#bytesGauge.set(this.#bytes);
  }
}

/** The entries of the lines of `buf` ending at `ends` (undefined for a line that is not one). */
function parseLines(buf: Buffer, ends: readonly number[]): Array<LogEntry | undefined> {
  // One JSON.parse of all lines as an array measured no faster than line by line, so keep it simple.
  let start = 0;
  return ends.map((end) => {
    const text = buf.toString('utf8', start, end);
    start = end + 1;
    try {
      return asEntry(JSON.parse(text));
    } catch {
      return undefined;
    }
  });
}

/** The value if it has the shape of an entry. */
function asEntry(value: unknown): LogEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<LogEntry>;
  if (typeof e.id !== 'string' || typeof e.message !== 'string' || typeof e.source !== 'string' || typeof e.timestamp !== 'string') return undefined;
  if (typeof e.level !== 'string' || typeof e.fields !== 'object' || e.fields === null) return undefined;
  return value as LogEntry;
}
