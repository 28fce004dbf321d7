// The memory sink buffer: a bounded queue of (entries, ack) groups whose acks complete once every
// entry of the group was committed. Also the pending-take logic the disk buffer shares.
import type { Logger } from 'pino';
import type { Ack } from '../ack.ts';
import { entrySize } from '../encode.ts';
import type { ShipMetrics } from '../metrics.ts';
import type { LogEntry } from '../types.ts';
import type { SinkBuffer, Taken } from './types.ts';

export type WhenFull = 'block' | 'drop_newest';

/** What a pending take should do, given what can be read now. */
export type TakeState = 'wait' | 'serve' | 'none';

/**
 * One outstanding `take`: waits for a first entry, then up to `timeoutMs` for `maxEvents` (or
 * `maxBytes`) to be available. The buffer calls `state()` whenever entries arrive or it ends, and
 * `settle()` with what it hands out; an abort settles it with undefined.
 * @example
 *   const take = new PendingTake(1000, 1 << 20, 1000, signal, () => this.#check());
 *   if (take.state(this.events, this.bytes, false) === 'serve') take.settle(this.#cut(take));
 */
export class PendingTake {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly promise: Promise<Taken | undefined>;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  readonly #wake: () => void;
  #resolve: (value: Taken | undefined) => void = () => undefined;
  #reject: (err: unknown) => void = () => undefined;
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #settled = false;
  readonly #onAbort = (): void => { this.settle(undefined); };

  /** `wake` is called when the timeout expires (the buffer then calls `state()` again). */
  constructor(maxEvents: number, maxBytes: number, timeoutMs: number, signal: AbortSignal, wake: () => void) {
    this.maxEvents = Math.max(1, maxEvents);
    this.maxBytes = Math.max(1, maxBytes);
    this.#timeoutMs = Math.max(0, timeoutMs);
    this.#signal = signal;
    this.#wake = wake;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal.aborted) this.settle(undefined);
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /**
   * `events`/`bytes` readable now; `finished` when nothing more will arrive (ended, nothing
   * queued); `full` when pushes wait for room, so no more can arrive before this take is served
   * (waiting for the timeout would only stall the producer). Starts the timeout at the first entry seen.
   */
  state(events: number, bytes: number, finished: boolean, full = false): TakeState {
    if (events === 0) return finished ? 'none' : 'wait';
    if (events >= this.maxEvents || bytes >= this.maxBytes || finished || full || this.#timedOut) return 'serve';
    this.#timer ??= setTimeout(() => {
      this.#timedOut = true;
      this.#wake();
    }, this.#timeoutMs);
    return 'wait';
  }

  #detach(): void {
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this.#onAbort);
  }

  settle(value: Taken | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#resolve(value);
  }

  fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#reject(err);
  }
}

/** Calls ack.done() so that one failing callback neither skips the others nor breaks the buffer. */
export function completeAck(ack: Ack, log: Logger): void {
  try {
    ack.done();
  } catch (err) {
    log.error({ err }, 'ack completion failed');
  }
}

export interface MemoryBufferOptions {
  sink: string;
  maxEvents: number;
  maxBytes: number;
  whenFull: WhenFull;
  metrics: ShipMetrics;
  log: Logger;
}

interface Group {
  entries: LogEntry[];
  ack: Ack;
}

interface BlockedPush {
  group: Group;
  bytes: number;
  resolve: (admitted: boolean) => void;
}

/**
 * A bounded in-memory queue (max_events and approximate max_bytes). An ack completes when all of
 * its entries were committed (delivered). Entries left at close are lost with their acks
 * incomplete, so the sources' checkpoints stay before them and they are read again on restart.
 * @example
 *   const buf = new MemoryBuffer({ sink: 'loki', maxEvents: 10_000, maxBytes: 32 << 20, whenFull: 'block', metrics, log });
 *   await buf.push(entries, ack);
 *   const taken = await buf.take(1000, 1 << 20, 1000, signal);
 *   if (taken) { await deliver(taken.entries); await buf.commit(taken); }
 */
export class MemoryBuffer implements SinkBuffer {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #whenFull: WhenFull;
  readonly #log: Logger;
  readonly #eventsGauge: { set(value: number): void };
  readonly #bytesGauge: { set(value: number): void };
  /** Groups from `#head` on are live; the array is compacted once the dead prefix dominates. */
  #groups: Group[] = [];
  #head = 0;
  /** Entries of the head group already committed. */
  #headDone = 0;
  #events = 0;
  #bytes = 0;
  readonly #blocked: BlockedPush[] = [];
  #take: PendingTake | undefined;
  #inFlight: Taken | undefined;
  #ended = false;
  #closed = false;

  constructor(options: MemoryBufferOptions) {
    this.#maxEvents = Math.max(1, options.maxEvents);
    this.#maxBytes = Math.max(1, options.maxBytes);
    this.#whenFull = options.whenFull;
    this.#log = options.log;
    const labels = { sink: options.sink };
    this.#eventsGauge = options.metrics.bufferEvents.labels(labels);
    this.#bytesGauge = options.metrics.bufferBytes.labels(labels);
    options.metrics.bufferMaxEvents.set(labels, this.#maxEvents);
    options.metrics.bufferMaxBytes.set(labels, this.#maxBytes);
    this.#gauges();
  }

  get events(): number {
    return this.#events;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** After end() or close() the push is refused: resolves false and leaves the ack incomplete (the entries are read again). */
  push(entries: LogEntry[], ack: Ack): Promise<boolean> {
    if (this.#ended || this.#closed) return Promise.resolve(false);
    if (entries.length === 0) {
      completeAck(ack, this.#log);
      return Promise.resolve(true);
    }
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    const group = { entries, ack };
    if (this.#blocked.length === 0 && this.#fits(entries.length, bytes)) {
      this.#append(group, bytes);
      return Promise.resolve(true);
    }
    if (this.#whenFull === 'drop_newest') {
      completeAck(ack, this.#log);
      return Promise.resolve(false);
    }
    const admitted = new Promise<boolean>((resolve) => this.#blocked.push({ group, bytes, resolve }));
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

  commit(taken: Taken): Promise<void> {
    if (taken !== this.#inFlight) return Promise.reject(new Error('commit of entries that are not in flight'));
    this.#inFlight = undefined;
    const acks: Ack[] = [];
    let n = taken.entries.length;
    while (n > 0) {
      const group = this.#groups[this.#head] as Group;
      const left = group.entries.length - this.#headDone;
      if (n < left) {
        this.#headDone += n;
        break;
      }
      n -= left;
      acks.push(group.ack);
      this.#groups[this.#head] = undefined as unknown as Group; // let the entries go
      this.#head++;
      this.#headDone = 0;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#groups.length) {
      this.#groups = this.#groups.slice(this.#head);
      this.#head = 0;
    }
    this.#events -= taken.entries.length;
    this.#bytes = this.#events === 0 ? 0 : Math.max(0, this.#bytes - taken.bytes);
    for (const ack of acks) completeAck(ack, this.#log);
    this.#admitBlocked();
    this.#gauges();
    this.#check();
    return Promise.resolve();
  }

  end(): void {
    this.#ended = true;
    this.#check();
  }

  leftovers(): Array<{ entries: LogEntry[]; ack: Ack }> {
    const out: Array<{ entries: LogEntry[]; ack: Ack }> = [];
    for (let g = this.#head; g < this.#groups.length; g++) {
      const group = this.#groups[g] as Group;
      out.push({ entries: g === this.#head ? group.entries.slice(this.#headDone) : group.entries, ack: group.ack });
    }
    return out;
  }

  /** Refuses blocked pushes (false, acks left incomplete) and ends a pending take; what is left is lost. */
  close(): Promise<void> {
    this.#ended = true;
    this.#closed = true;
    for (const b of this.#blocked.splice(0)) b.resolve(false);
    this.#take?.settle(undefined);
    return Promise.resolve();
  }

  #fits(events: number, bytes: number): boolean {
    // An empty buffer takes any push, however large: a push over the bound must not wait forever.
    return this.#events === 0 || (this.#events + events <= this.#maxEvents && this.#bytes + bytes <= this.#maxBytes);
  }

  #append(group: Group, bytes: number): void {
    this.#groups.push(group);
    this.#events += group.entries.length;
    this.#bytes += bytes;
    this.#gauges();
    this.#check();
  }

  #admitBlocked(): void {
    while (this.#blocked.length > 0) {
      const next = this.#blocked[0] as BlockedPush;
      if (!this.#fits(next.group.entries.length, next.bytes)) return;
      this.#blocked.shift();
      this.#append(next.group, next.bytes);
      next.resolve(true);
    }
  }

  /** Serves the pending take if it is ready. */
  #check(): void {
    const take = this.#take;
    if (take === undefined || this.#inFlight !== undefined) return;
    const state = take.state(this.#events, this.#bytes, this.#ended && this.#blocked.length === 0, this.#blocked.length > 0);
    if (state === 'wait') return;
    this.#take = undefined;
    take.settle(state === 'none' ? undefined : this.#cut(take));
  }

  #cut(take: PendingTake): Taken {
    const entries: LogEntry[] = [];
    let bytes = 0;
    let g = this.#head;
    let pos = this.#headDone;
    while (entries.length < take.maxEvents && g < this.#groups.length) {
      const group = this.#groups[g] as Group;
      const e = group.entries[pos] as LogEntry;
      const size = entrySize(e);
      if (entries.length > 0 && bytes + size > take.maxBytes) break;
      entries.push(e);
      bytes += size;
      if (++pos === group.entries.length) {
        g++;
        pos = 0;
      }
    }
    const taken = { entries, bytes };
    this.#inFlight = taken;
    return taken;
  }

  #gauges(): void {
    this.#eventsGauge.set(this.#events);
    this.#bytesGauge.set(this.#bytes);
  }
}
