// Benchmark of the state store backends: write transactions per second (one at a time, and 16 in
// flight), compare-and-swap transactions per second, and watch latency (put resolved -> event).
// Run: node_modules/.bin/node bench/store/run.ts [writes]   (etcd from PATH, started on loopback)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore, type Store } from '../../src/store/index.ts';
import { startEtcd } from '../../test/helpers/etcd.ts';
import { which } from '../../test/helpers/tools.ts';

const writes = Number(process.argv[2] ?? 2000);
const value = JSON.stringify({ name: 'web-1', labels: { role: 'web', env: 'prod' }, facts: { os: 'debian', cpus: 2, memory: 4_000_000_000 }, pad: 'x'.repeat(100) });

async function rate(n: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < n) await op(next++);
  }));
  return n / ((performance.now() - start) / 1000);
}

async function watchLatency(store: Store, n: number): Promise<{ p50: number; p99: number }> {
  const prefix = `/bench/watch/${Date.now()}/`;
  const stop = new AbortController();
  const seen = new Map<string, number>();
  let wake: (() => void) | undefined;
  const from = (await store.range(prefix)).revision + 1;
  const reader = (async () => {
    for await (const ev of store.watch(prefix, { fromRevision: from, signal: stop.signal })) {
      seen.set(ev.kv.key, performance.now());
      wake?.();
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${i}`;
    const sent = performance.now();
    await store.put(key, value);
    while (!seen.has(key)) await new Promise<void>((resolve) => { wake = resolve; });
    latencies.push(seen.get(key)! - sent);
  }
  stop.abort();
  await reader;
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(n * 0.5)]!, p99: latencies[Math.floor(n * 0.99)]! };
}

async function bench(name: string, store: Store): Promise<void> {
  const p = `/bench/${Date.now()}/`;
  const serial = await rate(writes, 1, (i) => store.put(`${p}s/${i % 500}`, value));
  const parallel = await rate(writes, 16, (i) => store.put(`${p}p/${i % 500}`, value));
  const cas = await rate(writes, 1, async (i) => {
    const key = `${p}c/${i % 50}`;
    const kv = await store.get(key);
    await store.txn({ compare: [{ key, target: 'mod', op: '=', value: kv?.modRevision ?? 0 }], success: [{ op: 'put', key, value }] });
  });
  const { p50, p99 } = await watchLatency(store, Math.min(writes, 500));
  console.log(`| ${name} | ${serial.toFixed(0)} | ${parallel.toFixed(0)} | ${cas.toFixed(0)} | ${p50.toFixed(2)} | ${p99.toFixed(2)} |`);
}

console.log('| backend | puts/s, 1 in flight | puts/s, 16 in flight | get + CAS txn/s | watch latency p50 ms | p99 ms |');
console.log('|---|---|---|---|---|---|');
const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-store-'));
try {
  const sqlite = await openStore(`sqlite:${join(dir, 'store.db')}`);
  await bench('sqlite (WAL, synchronous=FULL)', sqlite);
  await sqlite.close();
  const etcdPath = which('etcd');
  if (etcdPath === undefined) {
    console.log('| etcd | not installed (apt-get install etcd-server) | | | | |');
  } else {
    const server = await startEtcd(etcdPath);
    try {
      const etcd = await openStore(server.url);
      await bench('etcd 3.4, one member, loopback', etcd);
      await etcd.close();
    } finally {
      await server.destroy();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
