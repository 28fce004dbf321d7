// One conformance suite for every Store backend: sqlite.test.ts and etcd.test.ts register it with
// their own factory. Tests wait on events (with generous timeouts), never on elapsed time, except
// the keep-alive test, which must outlive a TTL to mean anything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { isOpsError, type ErrorCode } from '../core/errors.ts';
import type { Store, WatchEvent, WatchOptions } from './types.ts';

export interface ConformanceTarget {
  /** A store for one test (the suite closes it), or undefined when the test was skipped. */
  open(t: TestContext): Promise<Store | undefined>;
  /** A store URL another process may open (after the test's own store was closed), or undefined when skipped. */
  url(t: TestContext): Promise<string | undefined>;
}

/** The shortest lease TTL both backends honour (etcd's minimum is 1.5 s, rounded up). */
const ttl = 2;

const isCode = (code: ErrorCode) => (err: unknown): boolean => {
  assert.ok(isOpsError(err, code), `expected ${code}, got ${String(err)}`);
  return true;
};

/** Keys of one test: no two tests (or runs against one etcd) share a prefix. */
const newPrefix = (): string => `/conformance/${randomUUID()}/`;

/** The first `n` events of a watch, or a rejection after `timeoutMs` saying what arrived. */
export async function take(store: Store, prefix: string, n: number, options: WatchOptions = {}, timeoutMs = 20_000): Promise<WatchEvent[]> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  const events: WatchEvent[] = [];
  try {
    if (n > 0) {
      for await (const event of store.watch(prefix, { ...options, signal: stop.signal })) {
        events.push(event);
        if (events.length >= n) break;
      }
    }
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
  assert.equal(events.length, n, `expected ${n} events within ${timeoutMs} ms, got ${JSON.stringify(events)}`);
  return events;
}

const brief = (e: WatchEvent): [string, string, number, string, string | undefined] => [e.type, e.kv.key, e.revision, e.kv.value, e.prevKv?.value];

/** Registers the suite's tests, each named `${name}: ...`. */
export function storeConformance(name: string, target: ConformanceTarget): void {
  const withStore = (title: string, fn: (store: Store, p: string, t: TestContext) => Promise<void>): void => {
    test(`${name}: ${title}`, async (t) => {
      const store = await target.open(t);
      if (!store) return;
      t.after(() => store.close());
      await fn(store, newPrefix(), t);
    });
  };

  withStore('revisions increase by one per writing transaction', async (store, p) => {
    const r1 = await store.put(`${p}a`, '1');
    const r2 = await store.put(`${p}b`, '2');
    assert.equal(r2, r1 + 1);
    const multi = await store.txn({ success: [{ op: 'put', key: `${p}c`, value: '3' }, { op: 'put', key: `${p}d`, value: '4' }, { op: 'delete', key: `${p}a` }] });
    assert.equal(multi.revision, r2 + 1);
    const { kvs } = await store.range(p);
    assert.deepEqual(kvs.map((kv) => [kv.key, kv.modRevision]), [[`${p}b`, r2], [`${p}c`, r2 + 1], [`${p}d`, r2 + 1]]);
    const failed = await store.txn({ compare: [{ key: `${p}b`, target: 'value', op: '=', value: 'nope' }], success: [{ op: 'put', key: `${p}e`, value: '5' }] });
    assert.deepEqual(failed, { succeeded: false, revision: r2 + 1, results: [] });
    const read = await store.txn({ success: [{ op: 'get', key: p, prefix: true }] });
    assert.equal(read.revision, r2 + 1);
    assert.deepEqual(read.results[0]?.op === 'get' && read.results[0].kvs.map((kv) => kv.key), [`${p}b`, `${p}c`, `${p}d`]);
    assert.deepEqual(await store.delete(`${p}missing`), { deleted: 0, revision: r2 + 1 });
    assert.deepEqual(await store.delete(p, { prefix: true }), { deleted: 3, revision: r2 + 2 });
  });

  withStore('get, put and delete keep create revision, mod revision and version', async (store, p) => {
    const key = `${p}k`;
    assert.equal(await store.get(key), undefined);
    const r1 = await store.put(key, '{"n":1}');
    assert.deepEqual(await store.get(key), { key, value: '{"n":1}', createRevision: r1, modRevision: r1, version: 1 });
    const r2 = await store.put(key, '{"n":2}');
    assert.deepEqual(await store.get(key), { key, value: '{"n":2}', createRevision: r1, modRevision: r2, version: 2 });
    assert.deepEqual(await store.delete(key), { deleted: 1, revision: r2 + 1 });
    assert.equal(await store.get(key), undefined);
    const r4 = await store.put(key, 'again');
    assert.deepEqual(await store.get(key), { key, value: 'again', createRevision: r4, modRevision: r4, version: 1 });
    const unicode = `${p}ключ/é`;
    await store.put(unicode, 'ü');
    assert.equal((await store.get(unicode))?.value, 'ü');
  });

  withStore('compare on create revision: of two concurrent create-if-absent, exactly one wins', async (store, p) => {
    const key = `${p}leader`;
    const create = (value: string) => store.txn({
      compare: [{ key, target: 'create', op: '=', value: 0 }],
      success: [{ op: 'put', key, value }],
      failure: [{ op: 'get', key }],
    });
    const [a, b] = await Promise.all([create('a'), create('b')]);
    assert.equal([a, b].filter((r) => r.succeeded).length, 1);
    const winner = a.succeeded ? 'a' : 'b';
    const loser = a.succeeded ? b : a;
    assert.deepEqual(loser.results[0]?.op === 'get' && loser.results[0].kvs.map((kv) => kv.value), [winner]);
    assert.equal((await store.get(key))?.value, winner);
  });

  withStore('compare on mod revision: concurrent read-modify-write loses no update', async (store, p) => {
    const key = `${p}counter`;
    const writers = 6;
    const increments = 8;
    let conflicts = 0;
    const increment = async (): Promise<void> => {
      for (;;) {
        const kv = await store.get(key);
        const next = String(Number(kv?.value ?? '0') + 1);
        const r = await store.txn({ compare: [{ key, target: 'mod', op: '=', value: kv?.modRevision ?? 0 }], success: [{ op: 'put', key, value: next }] });
        if (r.succeeded) return;
        conflicts++;
      }
    };
    await Promise.all(Array.from({ length: writers }, async () => {
      for (let i = 0; i < increments; i++) await increment();
    }));
    assert.equal((await store.get(key))?.value, String(writers * increments));
    assert.ok(conflicts > 0, 'the writers never collided: the test proved nothing');
  });

  withStore('value and version compares; an absent key fails a value compare', async (store, p) => {
    const key = `${p}k`;
    await store.put(key, 'x');
    await store.put(key, 'y');
    const cmp = (compare: Parameters<Store['txn']>[0]['compare']) => store.txn({ compare, success: [], failure: [{ op: 'get', key }] });
    assert.equal((await cmp([{ key, target: 'version', op: '=', value: 2 }, { key, target: 'value', op: '=', value: 'y' }])).succeeded, true);
    assert.equal((await cmp([{ key, target: 'value', op: '<', value: 'z' }, { key, target: 'value', op: '>', value: 'x' }])).succeeded, true);
    const failed = await cmp([{ key, target: 'value', op: '!=', value: 'y' }]);
    assert.equal(failed.succeeded, false);
    assert.deepEqual(failed.results[0]?.op === 'get' && failed.results[0].kvs.map((kv) => kv.value), ['y']);
    assert.equal((await cmp([{ key: `${p}absent`, target: 'value', op: '!=', value: 'y' }])).succeeded, false);
    assert.equal((await cmp([{ key: `${p}absent`, target: 'version', op: '=', value: 0 }])).succeeded, true);
  });

  withStore('malformed transactions are rejected with OPS_ERR_STORE_REQUEST', async (store, p) => {
    const put = (key: string) => ({ op: 'put', key, value: '1' }) as const;
    await assert.rejects(store.txn({ success: [put(`${p}a`), put(`${p}a`)] }), isCode('OPS_ERR_STORE_REQUEST'));
    await assert.rejects(store.txn({ success: [{ op: 'delete', key: p, prefix: true }, put(`${p}a`)] }), isCode('OPS_ERR_STORE_REQUEST'));
    await assert.rejects(store.put('', '1'), isCode('OPS_ERR_STORE_REQUEST'));
    assert.throws(() => store.watch(p, { fromRevision: 0 }), isCode('OPS_ERR_STORE_REQUEST'));
    assert.equal((await store.range(p)).kvs.length, 0);
  });

  withStore('prefix range pages with limit and after, stable at the first page revision', async (store, p) => {
    const items = `${p}items/`;
    const names = Array.from({ length: 25 }, (_, i) => `${items}k${String(i).padStart(2, '0')}`);
    await store.txn({ success: [...names.map((key) => ({ op: 'put', key, value: 'v1' }) as const), { op: 'put', key: `${p}items`, value: 'x' }, { op: 'put', key: `${p}items0`, value: 'x' }] });
    const first = await store.range(items, { limit: 10 });
    assert.equal(first.kvs.length, 10);
    assert.equal(first.more, true);
    await store.delete(`${items}k05`);
    await store.put(`${items}k30`, 'v1');
    await store.put(`${items}k11`, 'v2');
    const seen = [...first.kvs];
    let page = first;
    while (page.more) {
      page = await store.range(items, { limit: 10, after: page.kvs.at(-1)!.key, revision: first.revision });
      assert.equal(page.revision, first.revision);
      seen.push(...page.kvs);
    }
    assert.deepEqual(seen.map((kv) => kv.key), names);
    assert.ok(seen.every((kv) => kv.value === 'v1'));
    const now = await store.range(items);
    assert.equal(now.more, false);
    assert.equal(now.revision, first.revision + 3);
    assert.deepEqual(now.kvs.map((kv) => kv.key), [...names.filter((k) => !k.endsWith('k05')), `${items}k30`]);
    assert.equal(now.kvs.find((kv) => kv.key.endsWith('k11'))?.value, 'v2');
    assert.deepEqual((await store.range(items, { after: `${items}k29` })).kvs.map((kv) => kv.key), [`${items}k30`]);
    await assert.rejects(store.range(items, { revision: now.revision + 100 }), isCode('OPS_ERR_STORE_REQUEST'));
  });

  withStore('watch from a past revision delivers every event in order, then live ones', async (store, p) => {
    const from = await store.put(`${p}a`, '1');
    await store.put(`${p}b`, '1');
    await store.put(`${p}a`, '2');
    await store.delete(`${p}b`);
    const multi = await store.txn({ success: [{ op: 'put', key: `${p}c`, value: '1' }, { op: 'put', key: `${p}d`, value: '1' }] });
    await store.put(`${p.slice(0, -1)}-elsewhere`, 'not watched');
    const past = await take(store, p, 6, { fromRevision: from });
    assert.deepEqual(past.map(brief), [
      ['put', `${p}a`, from, '1', undefined],
      ['put', `${p}b`, from + 1, '1', undefined],
      ['put', `${p}a`, from + 2, '2', '1'],
      ['delete', `${p}b`, from + 3, '', '1'],
      ['put', `${p}c`, multi.revision, '1', undefined],
      ['put', `${p}d`, multi.revision, '1', undefined],
    ]);
    assert.deepEqual(past[2]?.kv, { key: `${p}a`, value: '2', createRevision: from, modRevision: from + 2, version: 2 });
    const live = take(store, p, 3, { fromRevision: multi.revision + 1 });
    const r1 = await store.put(`${p}e`, '1');
    const r2 = await store.put(`${p}e`, '2');
    const r3 = await store.put(`${p}f`, '1');
    assert.deepEqual((await live).map(brief), [['put', `${p}e`, r1, '1', undefined], ['put', `${p}e`, r2, '2', '1'], ['put', `${p}f`, r3, '1', undefined]]);
  });

  withStore('a key put with a lease is deleted when the lease expires', async (store, p) => {
    const key = `${p}node`;
    const lease = await store.grant(ttl, { autoKeepAlive: false });
    assert.equal(lease.ttl, ttl);
    const rev = await store.put(key, 'up', { lease: lease.id });
    assert.equal((await store.get(key))?.lease, lease.id);
    const [gone] = await take(store, p, 1, { fromRevision: rev + 1 }, 30_000);
    assert.deepEqual(gone && [gone.type, gone.kv.key, gone.prevKv?.value], ['delete', key, 'up']);
    assert.equal(await store.get(key), undefined);
    await assert.rejects(lease.keepAlive(), isCode('OPS_ERR_STORE_LEASE_NOT_FOUND'));
    assert.ok(lease.lost.aborted);
    await assert.rejects(store.put(`${p}other`, 'x', { lease: lease.id }), isCode('OPS_ERR_STORE_LEASE_NOT_FOUND'));
  });

  withStore('the automatic keep-alive holds a lease past its TTL; revoke deletes its keys at once', async (store, p) => {
    const lease = await store.grant(ttl);
    const rev = (await store.txn({ success: [{ op: 'put', key: `${p}a`, value: '1', lease: lease.id }, { op: 'put', key: `${p}b`, value: '1', lease: lease.id }] })).revision;
    await sleep(ttl * 2500);
    assert.deepEqual((await store.range(p)).kvs.map((kv) => kv.key), [`${p}a`, `${p}b`], 'the keys outlived 2.5 TTLs only if the lease was kept alive');
    assert.equal(lease.lost.aborted, false);
    await lease.revoke();
    const events = await take(store, p, 2, { fromRevision: rev + 1 });
    assert.deepEqual(events.map((e) => [e.type, e.kv.key]), [['delete', `${p}a`], ['delete', `${p}b`]]);
    assert.equal(events[0]?.revision, events[1]?.revision);
    assert.ok(lease.lost.aborted);
    await assert.rejects(store.put(`${p}c`, '1', { lease: lease.id }), isCode('OPS_ERR_STORE_LEASE_NOT_FOUND'));
  });

  withStore('compaction: reads and watches from before it fail with OPS_ERR_STORE_COMPACTED', async (store, p) => {
    const r1 = await store.put(`${p}a`, '1');
    const r2 = await store.put(`${p}a`, '2');
    const r3 = await store.put(`${p}b`, '1');
    const r4 = await store.put(`${p}a`, '3');
    const r5 = (await store.delete(`${p}b`)).revision;
    await store.compact(r3);
    await assert.rejects(take(store, p, 1, { fromRevision: r1 }), (err) => {
      assert.ok(isOpsError(err, 'OPS_ERR_STORE_COMPACTED'), String(err));
      assert.equal(err.details.compactRevision, r3);
      return true;
    });
    await assert.rejects(store.range(p, { revision: r2 }), isCode('OPS_ERR_STORE_COMPACTED'));
    assert.deepEqual((await store.range(p, { revision: r3 })).kvs.map((kv) => [kv.key, kv.value, kv.modRevision]), [[`${p}a`, '2', r2], [`${p}b`, '1', r3]]);
    const kept = await take(store, p, 3, { fromRevision: r3 });
    assert.deepEqual(kept.map(brief), [['put', `${p}b`, r3, '1', undefined], ['put', `${p}a`, r4, '3', '2'], ['delete', `${p}b`, r5, '', '1']]);
    await assert.rejects(store.compact(r2), isCode('OPS_ERR_STORE_COMPACTED'));
    await assert.rejects(store.compact(r5 + 100), isCode('OPS_ERR_STORE_REQUEST'));
  });

  withStore('health reports the revision; close ends watches and later calls fail with OPS_ERR_STORE_CLOSED', async (store, p) => {
    const rev = await store.put(`${p}a`, '1');
    const health = await store.health();
    assert.ok(health.ok && health.revision >= rev, JSON.stringify(health));
    const pending = store.watch(p, { fromRevision: rev + 1 })[Symbol.asyncIterator]().next();
    await store.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    await assert.rejects(store.get(`${p}a`), isCode('OPS_ERR_STORE_CLOSED'));
    const after = await store.health();
    assert.ok(!after.ok && after.error.code === 'OPS_ERR_STORE_CLOSED');
    await store.close();
  });

  test(`${name}: close releases everything: a process that used the store exits by itself`, async (t) => {
    const url = await target.url(t);
    if (url === undefined) return;
    const child = spawn(process.execPath, [new URL('./testdata/use-and-close.ts', import.meta.url).pathname, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    assert.deepEqual([code, signal, out.trim()], [0, null, 'closed'], 'the child did not exit within 30 s of close(): a timer or handle outlived the store');
  });
}
