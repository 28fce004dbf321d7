import assert from 'node:assert/strict';
import { after, test, type TestContext } from 'node:test';
import { requireTool } from '../../test/helpers/tools.ts';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.ts';
import { freePort } from '../../test/helpers/process.ts';
import { isOpsError } from '../core/errors.ts';
import { storeConformance, take } from './conformance.ts';
import { openStore } from './index.ts';
import type { Store, WatchEvent } from './types.ts';

// One etcd for the file (tests run one at a time and keep to their own prefixes).
let server: Promise<EtcdServer> | undefined;
after(async () => { if (server) await (await server).destroy(); });

/** The shared etcd, or undefined when the test was skipped because etcd is not installed. */
async function etcd(t: TestContext): Promise<EtcdServer | undefined> {
  const path = requireTool(t, 'etcd', 'etcd-server');
  if (path === undefined) return undefined;
  server ??= startEtcd(path);
  return server;
}

async function open(t: TestContext): Promise<Store | undefined> {
  const s = await etcd(t);
  return s && openStore(s.url);
}

storeConformance('etcd', {
  open,
  url: async (t) => (await etcd(t))?.url,
});

test('etcd: a watch across an etcd restart delivers every event once, in order', async (t) => {
  const s = await etcd(t);
  if (!s) return;
  const store = await openStore(s.url);
  t.after(() => store.close());
  const p = `/restart/${Date.now()}/`;
  const from = await store.put(`${p}a0`, '0');
  const it = store.watch(p, { fromRevision: from })[Symbol.asyncIterator]();
  const seen: WatchEvent[] = [];
  const next = async (): Promise<void> => {
    const r = await Promise.race([it.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no event within 30 s after ${JSON.stringify(seen)}`)), 30_000).unref())]);
    assert.equal(r.done, false);
    seen.push(r.value);
  };
  for (let i = 1; i < 5; i++) await store.put(`${p}a${i}`, String(i));
  for (let i = 0; i < 5; i++) await next();

  await s.stop();
  await s.start();
  // Writes after the restart: the client reconnects too; a create-if-absent makes a retried put harmless.
  for (let i = 0; i < 5; i++) {
    const key = `${p}b${i}`;
    await until(async () => {
      try {
        await store.txn({ compare: [{ key, target: 'create', op: '=', value: 0 }], success: [{ op: 'put', key, value: String(i) }] });
        return true;
      } catch (err) {
        if (isOpsError(err, 'OPS_ERR_STORE_UNAVAILABLE')) return false;
        throw err;
      }
    });
  }
  for (let i = 0; i < 5; i++) await next();
  assert.deepEqual(seen.map((e) => e.kv.key), [0, 1, 2, 3, 4].map((i) => `${p}a${i}`).concat([0, 1, 2, 3, 4].map((i) => `${p}b${i}`)));
  assert.deepEqual(seen.map((e) => e.revision), seen.map((_, i) => from + i));
  // Nothing more is queued (a duplicate would be): a write after them is the very next event.
  const last = await store.put(`${p}c`, 'end');
  await next();
  assert.deepEqual([seen.at(-1)?.kv.key, seen.at(-1)?.revision], [`${p}c`, last]);
});

test('etcd: an unreachable etcd gives OPS_ERR_STORE_UNAVAILABLE and an unhealthy health()', async (t) => {
  const store = await openStore(`etcd://127.0.0.1:${await freePort()}`, { timeoutMs: 1000 });
  t.after(() => store.close());
  await assert.rejects(store.get('/x'), (err) => isOpsError(err, 'OPS_ERR_STORE_UNAVAILABLE'));
  const health = await store.health();
  assert.ok(!health.ok && health.error.code === 'OPS_ERR_STORE_UNAVAILABLE', JSON.stringify(health));
});

test('etcd: a compacted revision is reported for a watch with no event before it', async (t) => {
  const store = await open(t);
  if (!store) return;
  t.after(() => store.close());
  const p = `/compacted/${Date.now()}/`;
  const r1 = await store.put(`${p}a`, '1');
  const r2 = await store.put(`${p}a`, '2');
  await store.compact(r2);
  await assert.rejects(take(store, `${p}nothing-here/`, 1, { fromRevision: r1 }), (err) => isOpsError(err, 'OPS_ERR_STORE_COMPACTED') && err.details.compactRevision === r2);
});

async function until(fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
