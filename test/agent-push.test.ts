// End to end: `opsctl agent --push.remote-write` into a real Prometheus (remote-write receiver on),
// whose query API then returns the host's node_load1 with the agent's instance label.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startCli, waitForLine } from './helpers/cli.ts';
import { startPrometheus, stopChild } from './helpers/process.ts';
import { requireTool } from './helpers/tools.ts';

test('the agent pushes its collections to Prometheus by remote-write', async (t) => {
  const prometheus = requireTool(t, 'prometheus', 'prometheus');
  if (!prometheus) return;
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-agent-push-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { port, query } = await startPrometheus(t, prometheus, dir, { config: 'global:\n  scrape_interval: 1m\n', remoteWrite: true });

  const agent = startCli([
    'agent', '--listen', '127.0.0.1:0', '--push.remote-write', `http://127.0.0.1:${port}/api/v1/write`,
    '--push.interval', '500ms', '--push.batch-size', '1', '--push.host-id', 'push-test-host',
  ]);
  t.after(() => stopChild(agent));
  await waitForLine(agent, /"msg":"pushing"/);

  let found: Awaited<ReturnType<typeof query>> = [];
  const deadline = Date.now() + 30_000;
  while (found.length === 0 && Date.now() < deadline) {
    await sleep(500);
    found = await query('node_load1{instance="push-test-host"}').catch(() => []);
  }
  assert.equal(found.length, 1, 'node_load1 arrived');
  assert.equal(found[0]?.metric.__name__, 'node_load1');
  assert.ok(Number.isFinite(Number(found[0]?.value[1])));
  const count = await query('count({instance="push-test-host"})');
  assert.ok(Number(count[0]?.value[1]) > 100, 'a whole collection arrived, not one series');
});
