// The embedded store: etcd's model on one SQLite file (like k3s' kine), owned by one process.
// Every operation runs synchronously in this thread, so a transaction, a lease expiry and a
// watcher's read never interleave; watchers read the log after each commit.
import { randomInt } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { OpsError, isOpsError } from '../../core/errors.ts';
import { checkFromRevision, checkKey, checkRevision, checkTxn, keyAfter, keyBytes, prefixEnd } from '../request.ts';
import type { Compare, GrantOptions, KV, Lease, Op, OpResult, RangeOptions, RangeResult, Store, StoreHealth, TxnRequest, TxnResult, WatchEvent, WatchOptions } from '../types.ts';
import { SqliteLease, type LeaseOwner } from './lease.ts';
import { kvOf, openDatabase, type KvRow, type LogRow } from './schema.ts';
import { watchLog, type LogSource } from './watch.ts';

/** Above every valid UTF-8 key (0xff never occurs in UTF-8): the end of the '' prefix. */
const beyondAll = Uint8Array.of(0xff);

/** Runs synchronous store work as a promise: a throw becomes a rejection. */
const run = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(fn()));

function bounds(prefix: string): { start: Uint8Array; end: Uint8Array } {
  const start = keyBytes(prefix);
  return { start, end: prefixEnd(start) ?? beyondAll };
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  return Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
}

const deletedKv = (key: string, revision: number): KV => ({ key, value: '', createRevision: 0, modRevision: revision, version: 0 });

export class SqliteStore implements Store, LogSource, LeaseOwner {
  readonly backend = 'sqlite';
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #q: Record<string, StatementSync>;
  #revision: number;
  #compactRevision: number;
  #closed = false;
  #wakers = new Set<() => void>();
  #leases = new Map<number, Set<SqliteLease>>();
  #expiryTimer: NodeJS.Timeout | undefined;

  /** Opens (creating) the store at `path`; OPS_ERR_STORE_LOCKED if another process has it. */
  constructor(path: string) {
    this.path = path;
    this.#db = openDatabase(path);
    const db = this.#db;
    this.#q = {
      meta: db.prepare('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
      getKv: db.prepare('SELECT * FROM kv WHERE key = ?'),
      rangeKv: db.prepare('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
      rangeAt: db.prepare(`SELECT l.key, l.value, l.create_revision, l.revision AS mod_revision, l.version, l.lease FROM log l
        WHERE l.key >= :start AND l.key < :end AND l.revision <= :rev AND l.deleted = 0
          AND NOT EXISTS (SELECT 1 FROM log n WHERE n.key = l.key AND n.revision > l.revision AND n.revision <= :rev)
        ORDER BY l.key LIMIT :limit`),
      putKv: db.prepare('INSERT OR REPLACE INTO kv (key, value, create_revision, mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      appendLog: db.prepare('INSERT INTO log (revision, sub, key, value, create_revision, prev_revision, version, lease, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      logAt: db.prepare('SELECT * FROM log WHERE key = ? AND revision = ?'),
      events: db.prepare('SELECT * FROM log WHERE revision >= ? AND revision < ? AND key >= ? AND key < ? ORDER BY revision, sub'),
      compact: db.prepare(`DELETE FROM log WHERE revision < :rev AND (deleted = 1
        OR EXISTS (SELECT 1 FROM log n WHERE n.key = log.key AND n.revision > log.revision AND n.revision <= :rev))`),
      lease: db.prepare('SELECT * FROM leases WHERE id = ?'),
      insertLease: db.prepare('INSERT INTO leases (id, ttl, expires_at) VALUES (?, ?, ?)'),
      refreshLease: db.prepare('UPDATE leases SET expires_at = ? WHERE id = ?'),
      deleteLease: db.prepare('DELETE FROM leases WHERE id = ?'),
      leaseKeys: db.prepare('SELECT key FROM kv WHERE lease = ? ORDER BY key'),
      nextExpiry: db.prepare('SELECT MIN(expires_at) AS at FROM leases'),
      expired: db.prepare('SELECT id FROM leases WHERE expires_at <= ? ORDER BY expires_at'),
    };
    this.#revision = this.#meta('revision');
    this.#compactRevision = this.#meta('compact_revision');
    this.#scheduleExpiry();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get(key: string): Promise<KV | undefined> {
    return run(() => {
      this.#open();
      checkKey(key);
      const row = this.#q.getKv!.get(keyBytes(key)) as KvRow | undefined;
      return row && kvOf(row);
    });
  }

  range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    return run(() => {
      this.#open();
      const { limit, after, revision } = options;
      if (limit !== undefined) checkRevision(limit, 'limit');
      if (revision !== undefined) this.#checkReadable(revision);
      const { start: prefixStart, end } = bounds(prefix);
      const start = after !== undefined && Buffer.compare(keyAfter(after), prefixStart) > 0 ? keyAfter(after) : prefixStart;
      const fetch = limit === undefined || limit === 0 ? -1 : limit + 1;
      const at = revision ?? this.#revision;
      const rows = (at === this.#revision
        ? this.#q.rangeKv!.all(start, end, fetch)
        : this.#q.rangeAt!.all({ start, end, rev: at, limit: fetch })) as unknown as KvRow[];
      const more = fetch !== -1 && rows.length > limit!;
      return { kvs: rows.slice(0, more ? limit : undefined).map(kvOf), revision: at, more };
    });
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    return run(() => {
      this.#open();
      checkTxn(request);
      const { result } = this.#write(() => {
        const succeeded = (request.compare ?? []).every((c) => this.#holds(c));
        const { results, wrote } = this.#apply(succeeded ? request.success : request.failure ?? [], this.#revision + 1);
        return { result: { succeeded, results }, wrote };
      });
      return { ...result, revision: this.#revision };
    });
  }

  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const op: Op = options.lease === undefined ? { op: 'put', key, value } : { op: 'put', key, value, lease: options.lease };
    return (await this.txn({ success: [op] })).revision;
  }

  async delete(key: string, options: { prefix?: boolean } = {}): Promise<{ deleted: number; revision: number }> {
    const { results, revision } = await this.txn({ success: [{ op: 'delete', key, prefix: options.prefix === true }] });
    return { deleted: (results[0] as { deleted: number }).deleted, revision };
  }

  watch(prefix: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    this.#open();
    if (options.fromRevision !== undefined) checkFromRevision(options.fromRevision);
    const { start, end } = bounds(prefix);
    return watchLog(this, start, end, options.fromRevision ?? this.#revision + 1, options.signal);
  }

  grant(ttlSeconds: number, options: GrantOptions = {}): Promise<Lease> {
    return run(() => {
      this.#open();
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) throw new OpsError('OPS_ERR_STORE_REQUEST', `lease TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`);
      const id = randomInt(1, 2 ** 47);
      this.#q.insertLease!.run(id, ttlSeconds, Date.now() + ttlSeconds * 1000);
      const lease = new SqliteLease(this, id, ttlSeconds, options.autoKeepAlive !== false);
      this.#handles(id).add(lease);
      this.#scheduleExpiry();
      return lease;
    });
  }

  compact(revision: number): Promise<void> {
    return run(() => {
      this.#open();
      checkRevision(revision, 'compact revision');
      this.#checkReadable(revision);
      if (revision === this.#compactRevision) throw this.#compacted(revision);
      this.#write(() => {
        this.#q.compact!.run({ rev: revision });
        this.#q.setMeta!.run(revision, 'compact_revision');
        return { result: undefined, wrote: false };
      });
      this.#compactRevision = revision;
    });
  }

  health(): Promise<StoreHealth> {
    if (this.#closed) return Promise.resolve({ ok: false, error: new OpsError('OPS_ERR_STORE_CLOSED', 'the store is closed') });
    try {
      return Promise.resolve({ ok: true, revision: this.#meta('revision') });
    } catch (err) {
      return Promise.resolve({ ok: false, error: new OpsError('OPS_ERR_STORE_UNAVAILABLE', `${this.path}: ${String(err)}`, { cause: err }) });
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#expiryTimer);
    for (const handles of this.#leases.values()) for (const lease of handles) lease.end();
    this.#wake();
    this.#db.close();
    return Promise.resolve();
  }

  // LogSource: what watchLog reads.

  revision(): number {
    return this.#revision;
  }

  compactRevision(): number {
    return this.#compactRevision;
  }

  events(start: Uint8Array, end: Uint8Array, from: number, to: number): WatchEvent[] {
    const rows = this.#q.events!.all(from, to, start, end) as unknown as LogRow[];
    return rows.map((row) => {
      const kv = row.deleted ? deletedKv(new TextDecoder().decode(row.key), row.revision) : kvOf({ ...row, mod_revision: row.revision });
      const event: WatchEvent = { type: row.deleted ? 'delete' : 'put', kv, revision: row.revision };
      const prev = row.prev_revision === 0 ? undefined : this.#q.logAt!.get(row.key, row.prev_revision) as LogRow | undefined;
      if (prev) event.prevKv = kvOf({ ...prev, mod_revision: prev.revision });
      return event;
    });
  }

  changed(signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  // LeaseOwner: what lease handles call.

  refreshLease(id: number): void {
    this.#open();
    const row = this.#q.lease!.get(id) as { ttl: number; expires_at: number } | undefined;
    if (!row || row.expires_at <= Date.now()) {
      if (row) this.#expireDue();
      throw this.#leaseGone(id);
    }
    this.#q.refreshLease!.run(Date.now() + row.ttl * 1000, id);
  }

  revokeLease(id: number): void {
    this.#open();
    if (!this.#q.lease!.get(id)) throw this.#leaseGone(id);
    this.#write(() => ({ result: undefined, wrote: this.#dropLease(id) }));
    this.#endHandles(id);
    this.#scheduleExpiry();
  }

  forget(lease: SqliteLease): void {
    const handles = this.#leases.get(lease.numericId);
    handles?.delete(lease);
    if (handles?.size === 0) this.#leases.delete(lease.numericId);
  }

  // Internals.

  #open(): void {
    if (this.#closed) throw new OpsError('OPS_ERR_STORE_CLOSED', 'the store is closed');
  }

  #meta(name: string): number {
    return (this.#q.meta!.get(name) as { value: number }).value;
  }

  #checkReadable(revision: number): void {
    if (revision > this.#revision) throw new OpsError('OPS_ERR_STORE_REQUEST', `revision ${revision} is in the future (the store is at ${this.#revision})`);
    if (revision < this.#compactRevision) throw this.#compacted(revision);
  }

  #compacted(revision: number): OpsError {
    return new OpsError('OPS_ERR_STORE_COMPACTED', `revision ${revision} was compacted (compact revision ${this.#compactRevision})`, { details: { revision, compactRevision: this.#compactRevision } });
  }

  #leaseGone(id: number): OpsError {
    return new OpsError('OPS_ERR_STORE_LEASE_NOT_FOUND', `lease ${id} not found (expired or revoked)`, { details: { lease: String(id) } });
  }

  /** One write transaction: BEGIN IMMEDIATE ... COMMIT; a new revision when `wrote`; watchers woken after the commit. */
  #write<T>(fn: () => { result: T; wrote: boolean }): { result: T; wrote: boolean } {
    this.#db.exec('BEGIN IMMEDIATE');
    let out: { result: T; wrote: boolean };
    try {
      out = fn();
      if (out.wrote) this.#q.setMeta!.run(this.#revision + 1, 'revision');
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      if (isOpsError(err)) throw err;
      throw new OpsError('OPS_ERR_STORE_UNAVAILABLE', `${this.path}: write failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (out.wrote) {
      this.#revision++;
      this.#wake();
    }
    return out;
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #holds(c: Compare): boolean {
    const row = this.#q.getKv!.get(keyBytes(c.key)) as KvRow | undefined;
    if (c.target === 'value' && !row) return false;
    const actual = c.target === 'value' ? row!.value
      : c.target === 'create' ? row?.create_revision ?? 0
        : c.target === 'mod' ? row?.mod_revision ?? 0
          : row?.version ?? 0;
    const cmp = compareValues(actual, c.value);
    return c.op === '=' ? cmp === 0 : c.op === '!=' ? cmp !== 0 : c.op === '<' ? cmp < 0 : cmp > 0;
  }

  #rows(key: string, prefix: boolean | undefined): KvRow[] {
    if (!prefix) {
      const row = this.#q.getKv!.get(keyBytes(key)) as KvRow | undefined;
      return row ? [row] : [];
    }
    const { start, end } = bounds(key);
    return this.#q.rangeKv!.all(start, end, -1) as unknown as KvRow[];
  }

  /** Applies `ops` at revision `rev` inside the open transaction. */
  #apply(ops: readonly Op[], rev: number): { results: OpResult[]; wrote: boolean } {
    let sub = 0;
    const results: OpResult[] = [];
    for (const op of ops) {
      if (op.op === 'get') {
        results.push({ op: 'get', kvs: this.#rows(op.key, op.prefix).map(kvOf) });
      } else if (op.op === 'put') {
        const lease = op.lease === undefined ? 0 : Number(op.lease);
        if (lease !== 0 && (!Number.isSafeInteger(lease) || !this.#q.lease!.get(lease))) throw this.#leaseGone(lease);
        const key = keyBytes(op.key);
        const prev = this.#q.getKv!.get(key) as KvRow | undefined;
        const create = prev?.create_revision ?? rev;
        const version = (prev?.version ?? 0) + 1;
        this.#q.appendLog!.run(rev, sub++, key, op.value, create, prev?.mod_revision ?? 0, version, lease, 0);
        this.#q.putKv!.run(key, op.value, create, rev, version, lease);
        results.push({ op: 'put' });
      } else {
        const rows = this.#rows(op.key, op.prefix);
        for (const row of rows) {
          this.#q.appendLog!.run(rev, sub++, row.key, '', row.create_revision, row.mod_revision, 0, 0, 1);
          this.#q.deleteKv!.run(row.key);
        }
        results.push({ op: 'delete', deleted: rows.length });
      }
    }
    return { results, wrote: sub > 0 };
  }

  /** Deletes lease `id` and its keys inside the open transaction; true if keys were deleted. */
  #dropLease(id: number): boolean {
    const keys = this.#q.leaseKeys!.all(id) as unknown as Array<{ key: Uint8Array }>;
    const rev = this.#revision + 1;
    keys.forEach(({ key }, sub) => {
      const row = this.#q.getKv!.get(key) as unknown as KvRow;
      this.#q.appendLog!.run(rev, sub, key, '', row.create_revision, row.mod_revision, 0, 0, 1);
      this.#q.deleteKv!.run(key);
    });
    this.#q.deleteLease!.run(id);
    return keys.length > 0;
  }

  /** After the commit that dropped lease `id`: its handles stop and abort `lost` (listeners may use the store). */
  #endHandles(id: number): void {
    const gone = this.#leaseGone(id);
    for (const lease of [...this.#leases.get(id) ?? []]) lease.end(gone);
  }

  #handles(id: number): Set<SqliteLease> {
    let set = this.#leases.get(id);
    if (!set) this.#leases.set(id, (set = new Set()));
    return set;
  }

  /** One timer, at the earliest expiry; each expired lease is deleted in its own transaction (as etcd revokes them). */
  #scheduleExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (this.#closed) return;
    const { at } = this.#q.nextExpiry!.get() as { at: number | null };
    if (at === null) return;
    this.#expiryTimer = setTimeout(() => this.#expireDue(), Math.max(0, at - Date.now()) + 1);
  }

  #expireDue(): void {
    if (this.#closed) return;
    const due = this.#q.expired!.all(Date.now()) as unknown as Array<{ id: number }>;
    for (const { id } of due) {
      this.#write(() => ({ result: undefined, wrote: this.#dropLease(id) }));
      this.#endHandles(id);
    }
    this.#scheduleExpiry();
  }
}
