// The control-plane state store: a revisioned key-value store with transactions, watch and
// leases (etcd's v3 model). Domain code is written once against `Store`; sqlite/ and etcd/ back it.
import type { OpsError } from '../core/errors.ts';

/** A key's current value. Keys and values are strings (values are JSON, encoded by callers). */
export interface KV {
  key: string;
  value: string;
  /** The revision that created the key (since its last delete). */
  createRevision: number;
  /** The revision of the key's last write. */
  modRevision: number;
  /** Writes since creation: 1 after the first put. */
  version: number;
  /** The lease the key was put with, if any. */
  lease?: string;
}

export type CompareOp = '=' | '!=' | '<' | '>';

/**
 * A transaction guard. An absent key has create, mod and version 0; a `value` compare on an
 * absent key is false (as etcd).
 */
export type Compare =
  | { key: string; target: 'create' | 'mod' | 'version'; op: CompareOp; value: number }
  | { key: string; target: 'value'; op: CompareOp; value: string };

/** A write or read inside a transaction; later operations see the effects of earlier ones. */
export type Op =
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string; prefix?: boolean }
  | { op: 'get'; key: string; prefix?: boolean };

export type OpResult =
  | { op: 'put' }
  | { op: 'delete'; deleted: number }
  | { op: 'get'; kvs: KV[] };

export interface TxnRequest {
  compare?: Compare[];
  success: Op[];
  failure?: Op[];
}

export interface TxnResult {
  /** Whether every compare held (and `success` ran rather than `failure`). */
  succeeded: boolean;
  /** The store's revision after the transaction: one more than before if it wrote anything. */
  revision: number;
  /** One result per operation of the branch that ran. */
  results: OpResult[];
}

export interface RangeOptions {
  /** At most this many keys; `more` says whether the prefix holds more. */
  limit?: number;
  /** Continue after this key (the last key of the previous page). */
  after?: string;
  /** Read the prefix as it was at this revision (pass the first page's revision to page stably). */
  revision?: number;
}

export interface RangeResult {
  /** In key order (bytewise, UTF-8). */
  kvs: KV[];
  /** The revision the range was read at. */
  revision: number;
  more: boolean;
}

export interface WatchOptions {
  /**
   * Deliver every event from this revision on (the list-then-watch pattern: the list's revision
   * + 1). Without it, events after the revision current when the watch is established.
   */
  fromRevision?: number;
  /** Ends the watch (the iteration finishes). */
  signal?: AbortSignal;
}

/**
 * One change. Events come in revision order; the events of one transaction share its revision.
 * A delete's `kv` has the key and the delete's revision only (as etcd's).
 */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KV;
  /** The key's value before this event, when it existed and was not compacted away. */
  prevKv?: KV;
  revision: number;
}

export interface GrantOptions {
  /** Keep the lease alive from this process until revoke() or close() (default true). */
  autoKeepAlive?: boolean;
}

/** A lease: keys put with it are deleted (with delete events) when it expires or is revoked. */
export interface Lease {
  readonly id: string;
  /** Seconds. */
  readonly ttl: number;
  /** Refreshes the lease once; rejects with OPS_ERR_STORE_LEASE_NOT_FOUND when it is gone. */
  keepAlive(): Promise<void>;
  /** Deletes the lease and its keys; stops the automatic keep-alive. */
  revoke(): Promise<void>;
  /** Aborted once the lease is gone (expired, revoked) or could not be kept alive. */
  readonly lost: AbortSignal;
}

export type StoreHealth = { ok: true; revision: number } | { ok: false; error: OpsError };

/**
 * The state store. Every method rejects with an OpsError: OPS_ERR_STORE_UNAVAILABLE (retry),
 * OPS_ERR_STORE_COMPACTED (relist), OPS_ERR_STORE_LEASE_NOT_FOUND, OPS_ERR_STORE_REQUEST (a bug),
 * OPS_ERR_STORE_AUTH, OPS_ERR_STORE_CLOSED.
 *
 * @example
 *   const { revision, kvs } = await store.range('/opsctl/nodes/');
 *   for await (const ev of store.watch('/opsctl/nodes/', { fromRevision: revision + 1, signal })) apply(ev);
 */
export interface Store {
  readonly backend: 'sqlite' | 'etcd';
  get(key: string): Promise<KV | undefined>;
  /** The keys that start with `prefix` ('' is every key). */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  txn(request: TxnRequest): Promise<TxnResult>;
  /** Resolves to the new revision. */
  put(key: string, value: string, options?: { lease?: string }): Promise<number>;
  /** Deletes `key` (or every key under it with `prefix`); resolves to the count and the revision. */
  delete(key: string, options?: { prefix?: boolean }): Promise<{ deleted: number; revision: number }>;
  /**
   * Events for keys under `prefix`, established when called. Rejects (from the iteration) with
   * OPS_ERR_STORE_COMPACTED, `details.compactRevision` set, when `fromRevision` was compacted;
   * throws OPS_ERR_STORE_REQUEST at once for a fromRevision under 1, OPS_ERR_STORE_CLOSED after close().
   */
  watch(prefix: string, options?: WatchOptions): AsyncIterable<WatchEvent>;
  grant(ttlSeconds: number, options?: GrantOptions): Promise<Lease>;
  /** Drops history before `revision`: reads and watches from earlier revisions fail after it. */
  compact(revision: number): Promise<void>;
  /** For /readyz: a value, never a rejection. */
  health(): Promise<StoreHealth>;
  /** Ends watches, stops keep-alives and timers, releases the file or connections. */
  close(): Promise<void>;
}
