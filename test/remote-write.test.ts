// End to end with a real Prometheus (Debian's): the pusher remote-writes a few series into it
// through --web.enable-remote-write-receiver, and its query API returns them, labels and values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { silentLogger } from '../src/core/log.ts';
import { Registry } from '../src/core/metrics.ts';
import { pushMetrics } from '../src/agent/push/metrics.ts';
import { Pusher } from '../src/agent/push/pusher.ts';
import { remoteWriteSink } from '../src/agent/push/remote-write.ts';
import { startPrometheus } from './helpers/process.ts';
import { requireTool } from './helpers/tools.ts';

test('remote-write into a real Prometheus: the samples come back through its query API', async (t) => {
  const prometheus = requireTool(t, 'prometheus', 'prometheus');
  if (!prometheus) return;
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-rw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { port, query: promQuery } = await startPrometheus(t, prometheus, dir, { config: 'global:\n  scrape_interval: 1h\nscrape_configs: []\n', remoteWrite: true });

  // Until Prometheus listens the pusher sees connection refused and retries: the ring holds the batch.
  const metrics = pushMetrics(new Registry());
  const pusher = new Pusher({
    sink: remoteWriteSink({ url: `http://127.0.0.1:${port}/api/v1/write` }), log: silentLogger(), metrics,
    batchRecords: 2, policy: { baseDelayMs: 100, maxDelayMs: 500 }, stopGraceMs: 20_000,
  });
  t.after(() => pusher.stop());
  pusher.start();
  const now = Date.now() - 5_000;
  const name = 'opsctl_rw_test_value';
  for (let i = 0; i < 2; i++) {
    const ts = now + i * 1000;
    pusher.enqueue({
      timestampMs: ts,
      series: [
        { labels: { __name__: name, host: 'web-1', mode: 'idle' }, samples: [{ value: 10 + i, timestampMs: ts }] },
        { labels: { mode: 'user', __name__: name, host: 'web-1' }, samples: [{ value: 0.25 + i, timestampMs: ts }] },
      ],
    });
  }
  await pusher.stop();
  assert.equal((await metrics.sent.get()).values[0]?.value, 1, 'the batch was accepted');

  let result: Awaited<ReturnType<typeof promQuery>> = [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    result = await promQuery(name).catch(() => []);
    if (result.length === 2) break;
    await sleep(250);
  }
  const byMode = new Map(result.map((r) => [r.metric.mode, r]));
  assert.equal(result.length, 2, `query results: ${JSON.stringify(result)}`);
  assert.deepEqual(byMode.get('idle')?.metric, { __name__: name, host: 'web-1', mode: 'idle' });
  assert.equal(byMode.get('idle')?.value[1], '11', 'the latest sample');
  assert.equal(byMode.get('user')?.value[1], '1.25');

  // Both samples of a series are stored, at the pushed timestamps.
  const range = await promQuery(`${name}{mode="idle"}[1m]`) as unknown as Array<{ values: Array<[number, string]> }>;
  assert.deepEqual(range[0]?.values, [[now / 1000, '10'], [(now + 1000) / 1000, '11']]);
});
