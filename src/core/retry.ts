// Retried background delivery: a retry policy, exponential backoff with jitter, HTTP outcome
// classification (Retry-After honoured), and a bounded queue that delivers items one at a time.
import { setTimeout as sleep } from 'node:timers/promises';
import { OpsError } from './errors.ts';

/** How deliveries are retried; every field has a default. */
export interface RetryPolicy {
  /** Attempts per item, the first included (default 5). */
  attempts: number;
  /** Backoff before the second attempt; doubles each time (default 500 ms). */
  baseDelayMs: number;
  /** Longest backoff, also the cap of a Retry-After (default 30 s). */
  maxDelayMs: number;
  /** Timeout of one attempt (default 5 s). */
  timeoutMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({ attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5_000 });

/** A full policy from a partial one; undefined fields take the defaults. */
export function retryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: Math.max(1, partial.attempts ?? defaultRetryPolicy.attempts),
    baseDelayMs: partial.baseDelayMs ?? defaultRetryPolicy.baseDelayMs,
    maxDelayMs: partial.maxDelayMs ?? defaultRetryPolicy.maxDelayMs,
    timeoutMs: partial.timeoutMs ?? defaultRetryPolicy.timeoutMs,
  };
}

/**
 * The wait after failed attempt number `attempt` (1-based): exponential with equal jitter (half
 * the step fixed, half random), capped at maxDelayMs; a server's Retry-After wins, within the cap.
 * @example backoffMs(policy, 1, Math.random) // 250..500 with the default policy
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** A Retry-After header in seconds, as milliseconds (HTTP dates are ignored). */
export function parseRetryAfter(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

export interface DeliveryErrorOptions {
  /** Whether another attempt may succeed (network errors, timeouts, 5xx, 408, 429). */
  retryable: boolean;
  /** How long the server asked us to wait (Retry-After). */
  retryAfterMs?: number | undefined;
  /** Log fields describing the failure ({ status: 503 }, { error: 'ECONNREFUSED' }). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * One failed delivery attempt, saying whether it is worth retrying. Code OPS_ERR_WEBHOOK.
 * @example throw new DeliveryError('status 400', { retryable: false, details: { status: 400 } });
 */
export class DeliveryError extends OpsError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: DeliveryErrorOptions) {
    super('OPS_ERR_WEBHOOK', message, { details: options.details ?? {}, cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Whether an HTTP status is worth retrying: 5xx, 408 and 429. */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** The error for a non-2xx response, or undefined for a 2xx one. */
export function responseError(res: Pick<Response, 'ok' | 'status' | 'headers'>): DeliveryError | undefined {
  if (res.ok) return undefined;
  return new DeliveryError(`status ${res.status}`, {
    retryable: retryableStatus(res.status),
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    details: { status: res.status },
  });
}

/** Any error of an attempt as a DeliveryError: timeouts and network errors are retryable. */
export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: unknown } } | undefined;
  if (e?.name === 'TimeoutError') return new DeliveryError('timeout', { retryable: true, details: { error: 'timeout' }, cause: err });
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const text = code ?? e?.message ?? String(err);
  return new DeliveryError(text, { retryable: true, details: { error: text }, cause: err });
}

/** What happened to an item, for the owner of a queue to log and count in one place. */
export type RetryReport<T> =
  | { type: 'delivered'; item: T; attempt: number }
  | { type: 'retrying'; item: T; attempt: number; attempts: number; error: DeliveryError; delayMs: number }
  | { type: 'failed'; item: T; attempt: number; attempts: number; error: DeliveryError }
  | { type: 'dropped'; items: T[]; why: 'queue-full' | 'shutdown' };

export interface RetryQueueOptions<T> {
  /** Delivers one item; throws (ideally a DeliveryError) when the attempt failed. Must honour `signal`. */
  deliver: (item: T, signal: AbortSignal) => Promise<void>;
  policy?: Partial<RetryPolicy> | undefined;
  /** Items waiting beyond this are dropped, oldest first (default 1000). */
  maxQueue?: number | undefined;
  /** Random number in [0, 1) for jitter (tests make it fixed). */
  random?: (() => number) | undefined;
  /** Told of every outcome. */
  report?: ((report: RetryReport<T>) => void) | undefined;
}

/**
 * A bounded queue whose items are delivered one at a time, in order, each retried under a policy.
 * Pushing never blocks; a slow receiver only makes the queue longer, up to its bound.
 * @example
 *   const q = new RetryQueue({ deliver: (body, signal) => post(url, body, signal), report: log });
 *   q.push(body);     // returns at once
 *   await q.stop();   // waits a little for the queue, then aborts what is left
 */
export class RetryQueue<T> {
  readonly #deliver: RetryQueueOptions<T>['deliver'];
  readonly #policy: RetryPolicy;
  readonly #maxQueue: number;
  readonly #random: () => number;
  readonly #report: (report: RetryReport<T>) => void;
  readonly #abort = new AbortController();
  readonly #queue: T[] = [];
  /** True from the first push until the queue is empty again; set and cleared synchronously. */
  #draining = false;
  #running: Promise<void> = Promise.resolve();

  constructor(options: RetryQueueOptions<T>) {
    this.#deliver = options.deliver;
    this.#policy = retryPolicy(options.policy);
    this.#maxQueue = Math.max(1, options.maxQueue ?? 1000);
    this.#random = options.random ?? Math.random;
    const report = options.report ?? (() => undefined);
    this.#report = (r) => {
      try {
        report(r);
      } catch {
        // A reporting bug must not stop deliveries nor reject the drain loop nobody awaits.
      }
    };
  }

  /** Items waiting, the one being delivered included. */
  get length(): number {
    return this.#queue.length;
  }

  /** Queues an item and returns at once; false when the queue was stopped. */
  push(item: T): boolean {
    if (this.#abort.signal.aborted) return false;
    this.#queue.push(item);
    // While draining, the head is in flight: the bound counts the items that are only waiting.
    const head = this.#draining ? 1 : 0;
    if (this.#queue.length - head > this.#maxQueue) {
      this.#report({ type: 'dropped', items: this.#queue.splice(head, 1), why: 'queue-full' });
    }
    if (!this.#draining) {
      this.#draining = true;
      this.#running = this.#drain();
    }
    return true;
  }

  /** Resolves once every queued item was delivered or given up on. */
  async flush(): Promise<void> {
    while (this.#draining) await this.#running;
  }

  /** Waits up to `graceMs` for the queue to empty, then aborts what is left (reported as dropped). */
  async stop(graceMs = 3000): Promise<void> {
    const running = this.flush();
    const timer = sleep(graceMs, undefined, { ref: false, signal: this.#abort.signal }).catch(() => undefined);
    await Promise.race([running, timer]);
    this.#abort.abort();
    await running;
    if (this.#queue.length > 0) {
      this.#report({ type: 'dropped', items: this.#queue.splice(0), why: 'shutdown' });
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
        const item = this.#queue[0] as T;
        await this.#deliverWithRetries(item);
        if (!this.#abort.signal.aborted) this.#queue.shift();
      }
    } finally {
      this.#draining = false;
    }
  }

  async #deliverWithRetries(item: T): Promise<void> {
    const { attempts, timeoutMs } = this.#policy;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let error: DeliveryError | undefined;
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        await this.#deliver(item, AbortSignal.any([timeout, this.#abort.signal]));
      } catch (err) {
        // Whatever a deliverer throws when its signal fires (fetch: the reason; timers: AbortError).
        error = toDeliveryError(timeout.aborted ? timeout.reason : err);
      }
      if (this.#abort.signal.aborted) return;
      if (error === undefined) {
        this.#report({ type: 'delivered', item, attempt });
        return;
      }
      if (!error.retryable || attempt === attempts) {
        this.#report({ type: 'failed', item, attempt, attempts, error });
        return;
      }
      const delayMs = backoffMs(this.#policy, attempt, this.#random, error.retryAfterMs);
      this.#report({ type: 'retrying', item, attempt, attempts, error, delayMs });
      try {
        await sleep(delayMs, undefined, { signal: this.#abort.signal });
      } catch {
        return;
      }
    }
  }
}
