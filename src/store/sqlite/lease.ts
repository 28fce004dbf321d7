// A lease handle of the SQLite store: the expiry lives in the file, the keep-alive timer here.
import type { Lease } from '../types.ts';

export interface LeaseOwner {
  refreshLease(id: number): void;
  revokeLease(id: number): void;
  forget(lease: SqliteLease): void;
}

export class SqliteLease implements Lease {
  readonly id: string;
  readonly ttl: number;
  readonly numericId: number;
  readonly #owner: LeaseOwner;
  readonly #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(owner: LeaseOwner, id: number, ttl: number, autoKeepAlive: boolean) {
    this.#owner = owner;
    this.numericId = id;
    this.id = String(id);
    this.ttl = ttl;
    // The Go client's rhythm: refresh at a third of the TTL.
    if (autoKeepAlive) this.#timer = setInterval(() => this.#tick(), (ttl * 1000) / 3);
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  keepAlive(): Promise<void> {
    return new Promise((resolve) => resolve(this.#owner.refreshLease(this.numericId)));
  }

  revoke(): Promise<void> {
    return new Promise((resolve) => resolve(this.#owner.revokeLease(this.numericId)));
  }

  /** The lease is gone (or the store closed): stop refreshing; `reason` aborts `lost`. */
  end(reason?: Error): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#owner.forget(this);
    if (reason) this.#lost.abort(reason);
  }

  #tick(): void {
    try {
      this.#owner.refreshLease(this.numericId);
    } catch (err) {
      this.end(err as Error);
    }
  }
}
