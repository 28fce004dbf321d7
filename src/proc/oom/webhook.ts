// Posts OOM events to a webhook in the background: JSON bodies, in order, retried with exponential
// backoff and jitter on network errors, timeouts, 5xx and 429 (src/core/retry.ts); never blocks detection.
import type { Logger } from 'pino';
import { RetryQueue, responseError, type RetryPolicy, type RetryReport } from '../../core/retry.ts';
import type { OomMetrics } from './metrics.ts';

export type { RetryPolicy } from '../../core/retry.ts';

export interface WebhookSenderOptions extends Partial<RetryPolicy> {
  url: string;
  log: Logger;
  metrics: Pick<OomMetrics, 'errors' | 'deliveries'>;
  /** Events waiting beyond this are dropped, oldest first (default 1000). */
  maxQueue?: number;
  /** Random number in [0, 1) for jitter (tests make it fixed). */
  random?: () => number;
}

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
  readonly #queue: RetryQueue<string>;

  constructor(options: WebhookSenderOptions) {
    this.#url = options.url;
    // Webhook URLs often carry a secret in the path or query: logs name the origin only.
    this.#target = new URL(options.url).origin;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#queue = new RetryQueue<string>({
      deliver: (body, signal) => this.#post(body, signal),
      policy: options,
      maxQueue: options.maxQueue,
      random: options.random,
      report: (r) => this.#report(r),
    });
  }

  /** Queues a body for delivery and returns at once. */
  send(body: unknown): void {
    this.#queue.push(JSON.stringify(body));
  }

  /** Resolves once every queued body was delivered or given up on. */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Waits up to `graceMs` for the queue to empty, then aborts what is left. */
  stop(graceMs = 3000): Promise<void> {
    return this.#queue.stop(graceMs);
  }

  async #post(body: string, signal: AbortSignal): Promise<void> {
    const res = await fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'opsctl' },
      body,
      signal,
    });
    await res.body?.cancel();
    const error = responseError(res);
    if (error) throw error;
  }

  /** Counts and logs each outcome. */
  #report(r: RetryReport<string>): void {
    const target = this.#target;
    switch (r.type) {
      case 'delivered':
        this.#metrics.deliveries.inc({ result: 'delivered' });
        if (r.attempt > 1) this.#log.info({ target, attempt: r.attempt }, 'webhook delivered after retry');
        return;
      case 'retrying':
      case 'failed':
        this.#metrics.errors.inc({ source: 'webhook' });
        this.#log.warn({ target, attempt: r.attempt, attempts: r.attempts, ...r.error.details, retryInMs: r.type === 'retrying' ? r.delayMs : undefined }, 'webhook attempt failed');
        if (r.type === 'failed') {
          this.#metrics.deliveries.inc({ result: 'failed' });
          this.#log.error({ code: 'OPS_ERR_WEBHOOK', target }, 'webhook delivery failed');
        }
        return;
      case 'dropped':
        this.#metrics.deliveries.inc({ result: 'dropped' }, r.items.length);
        if (r.why === 'queue-full') this.#log.warn({ target }, 'webhook queue full, dropped oldest event');
        else this.#log.warn({ target, dropped: r.items.length }, 'webhook events dropped at shutdown');
        return;
    }
  }
}
