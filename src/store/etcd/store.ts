// The cluster store: the Store interface on etcd 3.4+ through the etcd3 client. Reads, writes and
// leases are etcd3's RPCs; watches are our own streams (watch.ts) so a reconnect loses nothing.
import { rootCertificates } from 'node:tls';
import { Etcd3, type ICompare, type IRequestOp, type ITxnRequest, type Lease as EtcdLease } from 'etcd3';
import { OpsError } from '../../core/errors.ts';
import { checkFromRevision, checkKey, checkRevision, checkTxn, keyAfter, keyBytes } from '../request.ts';
import type { Compare, GrantOptions, KV, Lease, Op, OpResult, RangeOptions, RangeResult, Store, StoreHealth, TxnRequest, TxnResult, WatchEvent, WatchOptions } from '../types.ts';
import { storeError } from './errors.ts';
import { kvOf, prefixRange } from './kv.ts';
import { EtcdWatch } from './watch.ts';

export interface EtcdStoreOptions {
  /** host:port of each member. */
  hosts: string[];
  tls: boolean;
  /** PEM: the CA that signed the members' certificates (the system's CAs without it). */
  ca?: Buffer;
  /** PEM: a client certificate and its key, for etcd's --client-cert-auth. */
  cert?: Buffer;
  key?: Buffer;
  username?: string;
  password?: string;
  /** The deadline of one call (a watch or keep-alive stream has none). */
  timeoutMs: number;
}

const results = { '=': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;
const targets = { create: 'Create', mod: 'Mod', version: 'Version', value: 'Value' } as const;

function compareOf(c: Compare): ICompare {
  const base: ICompare = { key: Buffer.from(keyBytes(c.key)), target: targets[c.target], result: results[c.op] };
  switch (c.target) {
    case 'create': return { ...base, create_revision: c.value };
    case 'mod': return { ...base, mod_revision: c.value };
    case 'version': return { ...base, version: c.value };
    case 'value': return { ...base, value: Buffer.from(c.value) };
  }
}

function requestOf(op: Op): IRequestOp {
  const range = op.op !== 'put' && op.prefix ? prefixRange(op.key) : { key: Buffer.from(keyBytes(op.key)), end: undefined };
  switch (op.op) {
    case 'put': return { request_put: { key: range.key, value: Buffer.from(op.value), lease: op.lease ?? 0 } };
    case 'delete': return { request_delete_range: { key: range.key, range_end: range.end } };
    case 'get': return { request_range: { key: range.key, range_end: range.end } };
  }
}

class EtcdStoreLease implements Lease {
  readonly id: string;
  readonly ttl: number;
  readonly #inner: EtcdLease;
  readonly #lost = new AbortController();
  readonly #onEnd: (l: EtcdStoreLease) => void;

  constructor(inner: EtcdLease, id: string, ttl: number, onEnd: (l: EtcdStoreLease) => void) {
    this.#inner = inner;
    this.id = id;
    this.ttl = ttl;
    this.#onEnd = onEnd;
    inner.on('lost', (err) => this.#end(storeError(err, `lease ${id}`)));
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async keepAlive(): Promise<void> {
    try {
      await this.#inner.keepaliveOnce();
    } catch (err) {
      throw storeError(err, `keep-alive of lease ${this.id}`);
    }
  }

  async revoke(): Promise<void> {
    try {
      await this.#inner.revoke();
    } catch (err) {
      throw storeError(err, `revoke of lease ${this.id}`);
    }
    this.#end(new OpsError('OPS_ERR_STORE_LEASE_NOT_FOUND', `lease ${this.id} revoked`, { details: { lease: this.id } }));
  }

  /** Stops the keep-alive without revoking (close()). */
  release(): void {
    this.#inner.release();
    this.#onEnd(this);
  }

  #end(reason: OpsError): void {
    this.#inner.release();
    this.#onEnd(this);
    if (!this.#lost.signal.aborted) this.#lost.abort(reason);
  }
}

export class EtcdStore implements Store {
  readonly backend = 'etcd';
  readonly #client: Etcd3;
  readonly #watches = new Set<EtcdWatch>();
  readonly #leases = new Set<EtcdStoreLease>();
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: EtcdStoreOptions) {
    this.#timeoutMs = options.timeoutMs;
    const tlsFiles = options.ca ?? options.cert ?? options.key;
    this.#client = new Etcd3({
      hosts: options.hosts.map((h) => `${options.tls ? 'https' : 'http'}://${h}`),
      ...(options.tls && tlsFiles !== undefined
        ? { credentials: { rootCertificate: options.ca ?? Buffer.from(rootCertificates.join('\n')), privateKey: options.key, certChain: options.cert } }
        : {}),
      ...(options.username !== undefined ? { auth: { username: options.username, password: options.password ?? '' } } : {}),
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.#timeoutMs }),
    });
  }

  async get(key: string): Promise<KV | undefined> {
    this.#open();
    checkKey(key);
    try {
      const res = await this.#client.kv.range({ key: Buffer.from(keyBytes(key)) });
      return res.kvs[0] && kvOf(res.kvs[0]);
    } catch (err) {
      throw storeError(err, `get ${key}`);
    }
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.#open();
    const { limit, after, revision } = options;
    if (limit !== undefined) checkRevision(limit, 'limit');
    if (revision !== undefined) checkRevision(revision, 'revision');
    const { key: start, end } = prefixRange(prefix);
    const next = after === undefined ? undefined : Buffer.from(keyAfter(after));
    const key = next !== undefined && Buffer.compare(next, start) > 0 ? next : start;
    try {
      const res = await this.#client.kv.range({ key, range_end: end, limit: limit ?? 0, revision: revision ?? 0 });
      return { kvs: res.kvs.map(kvOf), revision: revision ?? Number(res.header.revision), more: res.more };
    } catch (err) {
      throw storeError(err, `range ${prefix}`);
    }
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.#open();
    checkTxn(request);
    const req: ITxnRequest = {
      compare: (request.compare ?? []).map(compareOf),
      success: request.success.map(requestOf),
      failure: (request.failure ?? []).map(requestOf),
    };
    try {
      const res = await this.#client.kv.txn(req);
      const ops = res.succeeded ? request.success : request.failure ?? [];
      const out: OpResult[] = ops.map((op, i): OpResult => {
        const r = res.responses[i];
        if (op.op === 'put') return { op: 'put' };
        if (op.op === 'delete') return { op: 'delete', deleted: Number(r?.response_delete_range.deleted ?? 0) };
        return { op: 'get', kvs: (r?.response_range.kvs ?? []).map(kvOf) };
      });
      return { succeeded: res.succeeded, revision: Number(res.header.revision), results: out };
    } catch (err) {
      throw storeError(err, 'txn');
    }
  }

  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const op: Op = options.lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease: options.lease };
    return (await this.txn({ success: [op] })).revision;
  }

  async delete(key: string, options: { prefix?: boolean } = {}): Promise<{ deleted: number; revision: number }> {
    const { results: out, revision } = await this.txn({ success: [{ op: 'delete', key, prefix: options.prefix === true }] });
    return { deleted: (out[0] as { deleted: number }).deleted, revision };
  }

  watch(prefix: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    this.#open();
    if (options.fromRevision !== undefined) checkFromRevision(options.fromRevision);
    const watch = new EtcdWatch(this.#client, { ...prefixRange(prefix), prefix }, options.fromRevision, options.signal, (w) => this.#watches.delete(w));
    this.#watches.add(watch);
    return watch;
  }

  async grant(ttlSeconds: number, options: GrantOptions = {}): Promise<Lease> {
    this.#open();
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) throw new OpsError('OPS_ERR_STORE_REQUEST', `lease TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`);
    const inner = this.#client.lease(ttlSeconds, { autoKeepAlive: options.autoKeepAlive !== false });
    let id: string;
    try {
      id = await inner.grant();
    } catch (err) {
      inner.release();
      throw storeError(err, 'lease grant');
    }
    const lease = new EtcdStoreLease(inner, id, ttlSeconds, (l) => this.#leases.delete(l));
    this.#leases.add(lease);
    return lease;
  }

  async compact(revision: number): Promise<void> {
    this.#open();
    checkRevision(revision, 'compact revision');
    try {
      await this.#client.kv.compact({ revision, physical: true });
    } catch (err) {
      throw storeError(err, `compact ${revision}`);
    }
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, error: new OpsError('OPS_ERR_STORE_CLOSED', 'the store is closed') };
    try {
      const res = await this.#client.maintenance.status();
      return { ok: true, revision: Number(res.header.revision) };
    } catch (err) {
      return { ok: false, error: storeError(err, 'status') };
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const watch of [...this.#watches]) watch.stop();
    for (const lease of [...this.#leases]) lease.release();
    this.#client.close();
    return Promise.resolve();
  }

  #open(): void {
    if (this.#closed) throw new OpsError('OPS_ERR_STORE_CLOSED', 'the store is closed');
  }
}
