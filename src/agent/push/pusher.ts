// The push loop: records are sealed into batches (by count or flush interval), kept in a ring while
// the receiver is down, and sent one at a time, oldest first, retried under src/core/retry.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffMs, retryPolicy, toDeliveryError, type DeliveryError, type RetryPolicy } from '../../core/retry.ts';
import { defaultBatchRecords } from '../push-protocol.ts';
import { initPushMetrics, type DropReason, type PushMetrics } from './metrics.ts';
import { Ring, defaultRingCapacity } from './ring.ts';
import type { PushBatch, PushRecord, PushSink } from './series.ts';

export interface PusherOptions {
  sink: PushSink;
  log: Logger;
  metrics: PushMetrics;
  /** Batches kept while the receiver is down (default 1024); beyond it the oldest is dropped. */
  ringCapacity?: number | undefined;
  /** Records a batch holds before it is sealed (default 10). */
  batchRecords?: number | undefined;
  /** A partial batch is sealed this long after the last seal (default 10 s). */
  flushIntervalMs?: number | undefined;
  /**
   * Backoff and per-attempt timeout. `attempts` is not used: a retryable failure keeps the batch
   * at the head of the ring and retries it until it is sent, dropped to make room, or stopped.
   */
  policy?: Partial<RetryPolicy> | undefined;
  /** How long stop() keeps sending what is buffered (default 5 s). */
  stopGraceMs?: number | undefined;
  /** Aborting it stops the pusher, as stop() does. */
  signal?: AbortSignal | undefined;
  /** Random number in [0, 1) for jitter (tests make it fixed). */
  random?: (() => number) | undefined;
}

/**
 * A long-running pusher for one sink.
 * @example
 *   const pusher = new Pusher({ sink: remoteWriteSink({ url }), log, metrics: pushMetrics(registry) });
 *   pusher.start();
 *   pusher.enqueue({ timestampMs: Date.now(), series });
 *   await pusher.stop(); // sends what it can within stopGraceMs, drops (and counts) the rest
 */
export class Pusher {
  readonly #sink: PushSink;
  readonly #log: Logger;
  readonly #metrics: PushMetrics;
  readonly #ring: Ring<PushBatch>;
  readonly #batchRecords: number;
  readonly #flushIntervalMs: number;
  readonly #policy: RetryPolicy;
  readonly #stopGraceMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  #pending: PushRecord[] = [];
  #seq = 0;
  #inFlight: { batch: PushBatch; controller: AbortController } | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(options: PusherOptions) {
    this.#sink = options.sink;
    this.#log = options.log.child({ sink: options.sink.name });
    this.#metrics = options.metrics;
    this.#ring = new Ring(options.ringCapacity ?? defaultRingCapacity);
    this.#batchRecords = Math.max(1, options.batchRecords ?? defaultBatchRecords);
    this.#flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.#policy = retryPolicy(options.policy);
    this.#stopGraceMs = options.stopGraceMs ?? 5_000;
    this.#signal = options.signal;
    this.#random = options.random ?? Math.random;
    initPushMetrics(this.#metrics, this.#sink.name);
  }

  /** Batches waiting, the one being sent included. */
  get buffered(): number {
    return this.#ring.length;
  }

  /** Starts the flush timer and the send loop; a second call does nothing. */
  start(): void {
    if (this.#loop !== undefined || this.#stopping) return;
    this.#timer = setInterval(() => this.#seal(), this.#flushIntervalMs);
    this.#timer.unref();
    this.#loop = this.#run();
    this.#signal?.addEventListener('abort', () => {
      this.stop().catch((err: unknown) => this.#log.error({ err }, 'push stop failed'));
    }, { once: true });
    if (this.#signal?.aborted) this.stop().catch((err: unknown) => this.#log.error({ err }, 'push stop failed'));
  }

  /** Adds one collection; returns false once stopping. Seals a batch when it is full. */
  enqueue(record: PushRecord): boolean {
    if (this.#stopping) return false;
    this.#pending.push(record);
    if (this.#pending.length >= this.#batchRecords) this.#seal();
    return true;
  }

  /** Seals the partial batch, sends for up to stopGraceMs, then drops (and counts) the rest. */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    this.#seal();
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#wake?.();
    const loop = this.#loop ?? Promise.resolve();
    const grace = new AbortController();
    await Promise.race([loop, sleep(this.#stopGraceMs, undefined, { ref: false, signal: grace.signal }).catch(() => undefined)]);
    grace.abort();
    this.#abort.abort();
    this.#wake?.();
    await loop;
    const left = this.#ring.drain();
    if (left.length > 0) this.#drop(left, 'shutdown');
    this.#setBuffered();
  }

  #seal(): void {
    if (this.#pending.length === 0) return;
    const batch: PushBatch = { seq: this.#seq++, records: this.#pending };
    this.#pending = [];
    const dropped = this.#ring.push(batch);
    if (dropped !== undefined) {
      this.#drop([dropped], 'ring_full');
      if (this.#inFlight?.batch === dropped) this.#inFlight.controller.abort();
    }
    this.#setBuffered();
    this.#wake?.();
  }

  #setBuffered(): void {
    this.#metrics.buffered.set({ sink: this.#sink.name }, this.#ring.length);
  }

  /** Counts and logs batches given up on. */
  #drop(batches: PushBatch[], reason: DropReason, error?: DeliveryError): void {
    this.#metrics.dropped.inc({ sink: this.#sink.name, reason }, batches.length);
    const seqs = batches.map((b) => b.seq);
    this.#log.warn({ reason, batches: batches.length, first_seq: seqs[0], last_seq: seqs.at(-1), ...error?.details }, 'push batches dropped');
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      const batch = this.#ring.peek();
      if (batch === undefined) {
        if (this.#stopping) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      const settled = await this.#sendWithRetries(batch);
      if (settled && this.#ring.peek() === batch) this.#ring.shift();
      this.#setBuffered();
    }
  }

  /** True once the batch is settled (sent, or rejected and counted); false when it left otherwise. */
  async #sendWithRetries(batch: PushBatch): Promise<boolean> {
    const sink = this.#sink.name;
    for (let attempt = 1; ; attempt++) {
      // Dropped to make room while it waited for a retry: the ring's new head goes next.
      if (this.#ring.peek() !== batch || this.#abort.signal.aborted) return false;
      const controller = new AbortController();
      this.#inFlight = { batch, controller };
      const timeout = AbortSignal.timeout(this.#policy.timeoutMs);
      const end = this.#metrics.duration.startTimer({ sink });
      let error: DeliveryError | undefined;
      try {
        await this.#sink.send(batch, AbortSignal.any([timeout, controller.signal, this.#abort.signal]));
      } catch (err) {
        error = toDeliveryError(timeout.aborted ? timeout.reason : err);
      } finally {
        end();
        this.#inFlight = undefined;
      }
      // Shutdown or dropped for room: both were counted where they happened.
      if (this.#abort.signal.aborted || controller.signal.aborted) return false;
      if (error === undefined) {
        this.#metrics.sent.inc({ sink });
        this.#log.debug({ seq: batch.seq, attempt }, 'push batch sent');
        return true;
      }
      if (!error.retryable) {
        this.#drop([batch], 'rejected', error);
        return true;
      }
      const delayMs = backoffMs(this.#policy, attempt, this.#random, error.retryAfterMs);
      this.#metrics.retried.inc({ sink });
      this.#log.warn({ seq: batch.seq, attempt, delay_ms: delayMs, buffered: this.#ring.length, ...error.details }, 'push batch retrying');
      try {
        await sleep(delayMs, undefined, { signal: this.#abort.signal });
      } catch {
        return false;
      }
    }
  }
}
