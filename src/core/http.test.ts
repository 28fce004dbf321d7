import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { isOpsError } from './errors.ts';
import { createHttpServer, listen } from './http.ts';
import { silentLogger } from './log.ts';
import { createRegistry, fqName } from './metrics.ts';

test('serves /metrics, /healthz and /readyz on a real port', async (t) => {
  let waiting = ['oom'];
  const app = createHttpServer({ registry: createRegistry(), log: silentLogger(), notReady: () => waiting });
  t.after(() => app.close());
  const address = await listen(app, { host: '127.0.0.1', port: 0 });
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  const base = `http://${address}`;
  const metrics = await fetch(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const body = await metrics.text();
  for (const name of ['opsctl_build_info', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles', 'process_cpu_seconds_total']) {
    assert.match(body, new RegExp(`^${name}`, 'm'), name);
  }
  assert.doesNotMatch(body, /^# TYPE \w+_total gauge$/m, 'no gauge is named like a counter');
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const notReady = await fetch(`${base}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match(await notReady.text(), /not ready: oom/);
  waiting = [];
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
});

test('a busy port is OPS_ERR_LISTEN', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const app = createHttpServer({ registry: createRegistry({ runtime: false }), log: silentLogger() });
  t.after(() => app.close());
  await assert.rejects(listen(app, { host: '127.0.0.1', port }), (err) => isOpsError(err, 'OPS_ERR_LISTEN') && err.message.includes('EADDRINUSE'));
});

test('fqName joins parts and rejects invalid names', () => {
  assert.equal(fqName('opsctl', 'oom', 'kills_total'), 'opsctl_oom_kills_total');
  assert.equal(fqName('probe', '', 'success'), 'probe_success');
  assert.throws(() => fqName('bad-name'), TypeError);
});

test('/metrics appends the exposition blocks after the registry, read at each scrape', async () => {
  const blocks: Array<() => string> = [];
  const app = createHttpServer({ registry: createRegistry({ runtime: false }), log: silentLogger(), exposition: blocks });
  let n = 0;
  blocks.push(() => `# HELP extra_value An extra family.\n# TYPE extra_value gauge\nextra_value ${++n}\n`);
  const first = await app.inject('/metrics');
  assert.match(first.body, /^opsctl_build_info\{[^\n]*\n(.|\n)*# TYPE extra_value gauge\nextra_value 1\n$/m);
  assert.match((await app.inject('/metrics')).body, /^extra_value 2$/m);
  await app.close();
});
