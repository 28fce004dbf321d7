// Runs one sink: takes batches from its buffer, delivers them through its writer with retries
// (exponential backoff with jitter, Retry-After honoured), hands them to a fallback sink while
// the primary fails, and dead-letters what cannot be delivered. Nothing is dropped silently.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffMs, DeliveryError, toDeliveryError } from '../../core/retry.ts';
import type { Ack } from '../ack.ts';
import type { SinkBuffer, Taken } from '../buffer/types.ts';
import type { ShipMetrics, ComponentCounters } from '../metrics.ts';
import type { BatchConfig, RetryConfig } from '../schema.ts';
import type { DeadLetter, LogEntry, SinkWriter } from '../types.ts';

export interface SinkRunnerOptions {
  name: string;
  writer: SinkWriter;
  buffer: SinkBuffer;
  batch: BatchConfig;
  retry: RetryConfig;
  requestTimeoutMs: number;
  log: Logger;
  metrics: ShipMetrics;
  counters: ComponentCounters;
  deadLetter: DeadLetter;
  /** Random number in [0, 1) for jitter (tests fix it). */
  random?: () => number;
}

/** A writer that reports the bytes of its last successful write (before compression). */
interface BytesReporting { lastBytes?: number }

export class SinkRunner {
  readonly name: string;
  readonly #o: SinkRunnerOptions;
  readonly #random: () => number;
  /** Aborted to stop: ends the loop and any backoff; an in-flight attempt is aborted too. */
  readonly #abort = new AbortController();
  #fallback: SinkRunner | undefined;
  #loop: Promise<void> | undefined;
  /** True from a failed delivery until a successful one. */
  #failing = false;
  /** While failing with a fallback: when to try the primary again. */
  #nextProbe = 0;
  #probeAttempt = 0;
  #warnedAt = 0;
  /** Set once drain, abandon or close began: a refused push is then the shutdown's, not a full buffer's. */
  #stopping = false;

  constructor(options: SinkRunnerOptions) {
    this.name = options.name;
    this.#o = options;
    this.#random = options.random ?? Math.random;
    options.metrics.sinkHealthy.set({ sink: this.name }, 1);
  }

  /** The sink that takes batches while this one fails. */
  setFallback(fallback: SinkRunner): void {
    this.#fallback = fallback;
  }

  get buffer(): SinkBuffer {
    return this.#o.buffer;
  }

  get failing(): boolean {
    return this.#failing;
  }

  /** Entries from upstream; resolves once buffered (waits while the buffer is full and blocks). */
  async push(entries: LogEntry[], ack: Ack): Promise<void> {
    this.#o.counters.received(entries.length);
    const accepted = await this.#o.buffer.push(entries, ack);
    if (accepted) return;
    if (this.#stopping) this.#undelivered(entries, ack);
    else this.#o.counters.dropped('buffer_full', entries.length);
  }

  /** Starts the delivery loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops taking more: delivers what is buffered until `deadline` (ms since epoch), then aborts.
   * Undelivered entries of a memory buffer stay unacknowledged, so their source reads them again
   * on the next start; a disk buffer keeps them.
   */
  async drain(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#o.buffer.end();
    const left = Math.max(0, deadline - Date.now());
    const timer = setTimeout(() => this.#abort.abort(), left);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops delivering at once, without draining (a reload while this sink fails): what its memory
   * buffer holds stays unacknowledged and is read again by the next pipeline; blocked pushes are
   * released so the sources can stop.
   */
  async abandon(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await this.#loop;
    await this.#o.buffer.close();
  }

  /** Aborts at once (after drain, or when a start failed). */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await this.#loop;
    for (const { entries, ack } of this.#o.buffer.leftovers?.() ?? []) this.#undelivered(entries, ack);
    await this.#o.buffer.close();
    await this.#o.writer.close?.();
  }

  /**
   * Entries this sink did not deliver before it stopped. Those a source can read again are left
   * unacknowledged; the others (stdin) would be lost, so they go to the dead-letter file.
   */
  #undelivered(entries: readonly LogEntry[], ack: Ack): void {
    if (ack.replayable || entries.length === 0) return;
    this.#o.counters.error('undelivered_at_shutdown', entries.length);
    this.#o.log.error({ events: entries.length, dead_letter: this.#o.deadLetter.path }, 'entries undelivered at shutdown cannot be read again, written to the dead-letter file');
    this.#o.deadLetter.write(entries, 'undelivered_at_shutdown', this.name);
  }

  async #run(): Promise<void> {
    const { batch, buffer, log } = this.#o;
    const signal = this.#abort.signal;
    for (;;) {
      let taken: Taken | undefined;
      try {
        taken = await buffer.take(batch.max_events, batch.max_bytes, batch.timeout, signal);
      } catch (err) {
        if (signal.aborted) return;
        log.error({ err }, 'cannot read sink buffer');
        await sleep(1000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (taken === undefined) return;
      const handled = await this.deliver(taken.entries, signal);
      if (!handled) return; // aborted: the entries stay unacknowledged (memory) or on disk
      await buffer.commit(taken);
    }
  }

  /**
   * Delivers entries somewhere they are safe: this sink, its fallback while this one fails, or
   * the dead-letter file when they are rejected or out of retries. Resolves false only when aborted
   * (the entries were then not handled). Also used by a primary handing its batches over.
   */
  async deliver(entries: readonly LogEntry[], signal: AbortSignal): Promise<boolean> {
    const { retry, metrics, counters, log } = this.#o;
    const sink = this.name;
    let attempt = 0;
    for (;;) {
      if (signal.aborted) return false;
      if (this.#fallback && this.#failing && Date.now() < this.#nextProbe) {
        return this.#handOver(entries, signal);
      }
      attempt++;
      const error = await this.#attempt(entries, signal);
      if (error === undefined) {
        if (this.#failing) log.info({ attempt }, 'sink recovered');
        this.#failing = false;
        this.#probeAttempt = 0;
        metrics.sinkHealthy.set({ sink }, 1);
        return true;
      }
      if (signal.aborted) return false;
      this.#failing = true;
      metrics.sinkHealthy.set({ sink }, 0);
      if (!error.retryable) {
        counters.error(`rejected${typeof error.details.status === 'number' ? `_${error.details.status}` : ''}`, entries.length);
        log.warn({ events: entries.length, error: error.message, ...error.details }, 'batch rejected, written to the dead-letter file');
        this.#o.deadLetter.write(entries, `rejected: ${error.message}`, sink);
        // A rejection is about the batch, not the sink's health.
        this.#failing = false;
        metrics.sinkHealthy.set({ sink }, 1);
        return true;
      }
      // With a fallback the batch is handed over after a failed attempt (the fallback retries it its
      // own way), so max_retries only bounds a sink without one.
      if (!this.#fallback && retry.max_retries !== undefined && attempt > retry.max_retries) {
        counters.error('retries_exhausted', entries.length);
        log.error({ events: entries.length, attempts: attempt, error: error.message }, 'retries exhausted, batch written to the dead-letter file');
        this.#o.deadLetter.write(entries, `retries_exhausted: ${error.message}`, sink);
        return true;
      }
      metrics.sinkRetries.inc({ sink });
      const delay = backoffMs(
        { attempts: Infinity, baseDelayMs: retry.initial_backoff, maxDelayMs: retry.max_backoff, timeoutMs: this.#o.requestTimeoutMs },
        this.#fallback ? ++this.#probeAttempt : attempt, this.#random, error.retryAfterMs,
      );
      this.#warn({ attempt, delay_ms: delay, error: error.message, ...error.details, fallback: this.#fallback?.name });
      if (this.#fallback) {
        this.#nextProbe = Date.now() + delay;
        return this.#handOver(entries, signal);
      }
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return false;
      }
    }
  }

  async #attempt(entries: readonly LogEntry[], signal: AbortSignal): Promise<DeliveryError | undefined> {
    const { writer, metrics, counters, requestTimeoutMs } = this.#o;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    const started = performance.now();
    try {
      await writer.write(entries, AbortSignal.any([signal, timeout]));
      metrics.sinkLatency.observe({ sink: this.name }, (performance.now() - started) / 1000);
      counters.sent(entries.length, (writer as BytesReporting).lastBytes);
      return undefined;
    } catch (err) {
      metrics.sinkLatency.observe({ sink: this.name }, (performance.now() - started) / 1000);
      // A writer's own DeliveryError says more than the timeout that ended the attempt (tcp: "still draining").
      return toDeliveryError(timeout.aborted && !(err instanceof DeliveryError) ? timeout.reason : err);
    }
  }

  async #handOver(entries: readonly LogEntry[], signal: AbortSignal): Promise<boolean> {
    const fallback = this.#fallback as SinkRunner;
    this.#o.metrics.sinkFailovers.inc({ sink: this.name, fallback: fallback.name }, 1);
    fallback.#o.counters.received(entries.length); // what it sends counts as out: it counts as in too
    return fallback.deliver(entries, signal);
  }

  /** Failures are logged at most every 5 s per sink (each retry is counted in metrics). */
  #warn(fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#warnedAt < 5000) return;
    this.#warnedAt = now;
    this.#o.log.warn(fields, 'delivery failed, retrying');
  }
}
