// Posts OOM events to a webhook in the background: JSON bodies, in order, retried with exponential
// backoff and jitter on network errors, timeouts, 5xx and 429; never blocks detection.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { OomMetrics } from './metrics.ts';

/** How deliveries are retried; every field has a default. */
export interface RetryPolicy {
  /** Attempts per event, the first included (default 5). */
  attempts: number;
  /** Backoff before the second attempt; doubles each time (default 500 ms). */
  baseDelayMs: number;
  /** Longest backoff, also the cap of a Retry-After (default 30 s). */
  maxDelayMs: number;
  /** Timeout of one request (default 5 s). */
  timeoutMs: number;
}

export interface WebhookSenderOptions extends Partial<RetryPolicy> {
  url: string;
  log: Logger;
  metrics: Pick<OomMetrics, 'errors' | 'deliveries'>;
  /** Events waiting beyond this are dropped, oldest first (default 1000). */
  maxQueue?: number;
  /** Random number in [0, 1) for jitter (tests make it fixed). */
  random?: () => number;
}

const defaults: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5_000 };

/** One delivery attempt's outcome. */
type Attempt = { ok: true } | { ok: false; retry: boolean; reason: Record<string, unknown>; retryAfterMs?: number };

/**
 * A queue of JSON bodies delivered one at a time.
 * @example
 *   const hook = new WebhookSender({ url, log, metrics });
 *   hook.send(event);       // returns at once
 *   await hook.stop();      // waits a little for the queue, then gives up
 */
export class WebhookSender {
  readonly #url: string;
  readonly #target: string;
  readonly #log: Logger;
  readonly #metrics: WebhookSenderOptions['metrics'];
  readonly #policy: RetryPolicy;
  readonly #maxQueue: number;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  readonly #queue: unknown[] = [];
  #running: Promise<void> | undefined;

  constructor(options: WebhookSenderOptions) {
    this.#url = options.url;
    // Webhook URLs often carry a secret in the path or query: logs name the origin only.
    this.#target = new URL(options.url).origin;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#policy = {
      attempts: options.attempts ?? defaults.attempts,
      baseDelayMs: options.baseDelayMs ?? defaults.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? defaults.maxDelayMs,
      timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    };
    this.#maxQueue = options.maxQueue ?? 1000;
    this.#random = options.random ?? Math.random;
  }

  /** Queues a body for delivery and returns at once. */
  send(body: unknown): void {
    if (this.#abort.signal.aborted) return;
    this.#queue.push(body);
    if (this.#queue.length > this.#maxQueue) {
      this.#queue.shift();
      this.#metrics.deliveries.inc({ result: 'dropped' });
      this.#log.warn({ target: this.#target, maxQueue: this.#maxQueue }, 'webhook queue full, dropped oldest event');
    }
    this.#running ??= this.#drain().finally(() => { this.#running = undefined; });
  }

  /** Resolves once every queued body was delivered or given up on. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Waits up to `graceMs` for the queue to empty, then aborts what is left. */
  async stop(graceMs = 3000): Promise<void> {
    const running = this.flush();
    const timer = sleep(graceMs, 'timeout' as const, { ref: false, signal: this.#abort.signal }).catch(() => 'aborted' as const);
    await Promise.race([running, timer]);
    this.#abort.abort();
    await running;
    if (this.#queue.length > 0) {
      this.#metrics.deliveries.inc({ result: 'dropped' }, this.#queue.length);
      this.#log.warn({ target: this.#target, dropped: this.#queue.length }, 'webhook events dropped at shutdown');
      this.#queue.length = 0;
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const body = this.#queue[0];
      await this.#deliver(JSON.stringify(body));
      if (!this.#abort.signal.aborted) this.#queue.shift();
    }
  }

  async #deliver(body: string): Promise<void> {
    const { attempts } = this.#policy;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const result = await this.#attempt(body);
      if (this.#abort.signal.aborted) return;
      if (result.ok) {
        this.#metrics.deliveries.inc({ result: 'delivered' });
        if (attempt > 1) this.#log.info({ target: this.#target, attempt }, 'webhook delivered after retry');
        return;
      }
      this.#metrics.errors.inc({ source: 'webhook' });
      const last = !result.retry || attempt === attempts;
      const delayMs = last ? undefined : this.#backoff(attempt, result.retryAfterMs);
      this.#log.warn({ target: this.#target, attempt, attempts, ...result.reason, retryInMs: delayMs }, 'webhook attempt failed');
      if (delayMs === undefined) break;
      try {
        await sleep(delayMs, undefined, { signal: this.#abort.signal });
      } catch {
        return;
      }
    }
    this.#metrics.deliveries.inc({ result: 'failed' });
    this.#log.error({ code: 'OPS_ERR_WEBHOOK', target: this.#target }, 'webhook delivery failed');
  }

  async #attempt(body: string): Promise<Attempt> {
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'opsctl' },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#policy.timeoutMs), this.#abort.signal]),
      });
      await res.body?.cancel();
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      const failed: Attempt = { ok: false, retry, reason: { status: res.status } };
      const after = retryAfterMs(res.headers.get('retry-after'));
      if (after !== undefined) failed.retryAfterMs = after;
      return failed;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, retry: true, reason: { error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message) } };
    }
  }

  /** Exponential backoff with equal jitter: half the step fixed, half random; Retry-After wins when given. */
  #backoff(attempt: number, retryAfter: number | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.#policy;
    if (retryAfter !== undefined) return Math.min(retryAfter, maxDelayMs);
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + (step / 2) * this.#random());
  }
}

/** A Retry-After header in seconds, as milliseconds (HTTP dates are ignored). */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}
