// A counting semaphore whose waiters can give up: the scheduler's global cap on probes in flight.

/**
 * At most `size` holders at once; waiters are served first come, first served, and leave the
 * queue when their signal aborts, so the queue never holds more than one waiter per caller.
 * @example
 *   if (await slots.acquire(deadline)) try { await work(); } finally { slots.release(); }
 */
export class Semaphore {
  readonly size: number;
  #held = 0;
  // A Set keeps insertion order and drops a waiter that gives up in O(1).
  readonly #waiters = new Set<(granted: boolean) => void>();

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`semaphore size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Slots in use. */
  get held(): number {
    return this.#held;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Resolves true once a slot is held, false if `signal` aborted first (no slot is then held). */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#held < this.size) {
      this.#held++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = (granted: boolean): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      const onAbort = (): void => {
        this.#waiters.delete(grant);
        grant(false);
      };
      this.#waiters.add(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives a slot back, handing it straight to the first waiter if there is one. */
  release(): void {
    const next = this.#waiters.values().next();
    if (next.done !== true) {
      this.#waiters.delete(next.value);
      next.value(true);
    } else if (this.#held > 0) this.#held--;
  }
}
