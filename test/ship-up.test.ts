// End to end: `opsctl up` with [ship] enabled runs the shipper: lines reach the receiver and the
// opsctl_ship_* metrics are on up's own /metrics.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, repoRoot, runCli, startCli, waitForLine } from './helpers/cli.ts';
import { startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, metricValue, q, shipWorkspace } from './helpers/ship.ts';
import { requireTool } from './helpers/tools.ts';

test('up with [ship] enabled ships lines and serves opsctl_ship_* on its /metrics', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(file, `data_dir = ${q(data)}
listen = "127.0.0.1:1"  # not used under up
${fileSource('app', log)}${httpSink('rx', ['app'], rx.url, 'batch = { timeout = "100ms" }')}`);
  const config = join(dir, 'up.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n[ship]\nenabled = true\nconfig = "ship.toml"\n');
  const check = await runCli(['up', '--config', config, '--check-config']);
  assert.equal(check.code, 0, check.stderr);
  // OPSCTL_SHIP_* is the ship config's (OPSCTL_SHIP__* would be up's [ship]): up does not take it as its own key.
  const withShipEnv = await runCli(['up', '--config', config, '--check-config'], { env: { OPSCTL_SHIP_SHUTDOWN_TIMEOUT: '5s' } });
  assert.equal(withShipEnv.code, 0, withShipEnv.stderr);
  const badShipEnv = await runCli(['up', '--config', config, '--check-config'], { env: { OPSCTL_SHIP_SHUTDOWN_TIMEOUT: 'soon' } });
  assert.equal(badShipEnv.code, 78, 'the ship config did not see OPSCTL_SHIP_SHUTDOWN_TIMEOUT');
  assert.match(badShipEnv.stderr, /OPSCTL_SHIP_SHUTDOWN_TIMEOUT/);

  const child = startCli(['up', '--config', config]);
  const done = collect(child, 60_000);
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  try {
    const listening = await waitForLine(child, /"msg":"listening"/);
    const address = (JSON.parse(listening) as { address: string }).address;
    assert.match(await waitForLine(child, /"msg":"up"/), /"services":\[[^\]]*"ship"/);
    await appendSeqLines(log, 0, 500);
    await rx.waitForSeqs(0, 500);
    assert.equal(rx.duplicates, 0);

    const body = await (await fetch(`http://${address}/metrics`)).text();
    assert.ok(metricValue(body, 'opsctl_ship_events_out_total', { component: 'rx', kind: 'sink' }) >= 500, body);
    assert.ok(metricValue(body, 'opsctl_ship_events_in_total', { component: 'app', kind: 'source' }) >= 500);
    assert.match(body, /^opsctl_build_info\{/m);
    const promtool = requireTool(t, 'promtool', 'prometheus');
    if (promtool) {
      const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    }
    const reload = await fetch(`http://${address}/-/reload`, { method: 'POST' });
    assert.equal(reload.status, 200, await reload.text());
    await appendSeqLines(log, 500, 600);
    await rx.waitForSeqs(500, 600);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(rx.duplicates, 0);
});

test('up stops within its own shutdown_timeout while the shipper has undelivered lines, exit 0, and they follow later', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  await rx.stop();
  // The ship config would drain for a minute; up allows 3 s in all.
  writeFileSync(file, `data_dir = ${q(data)}
shutdown_timeout = "60s"
${fileSource('app', log)}${httpSink('rx', ['app'], rx.url, 'batch = { timeout = "100ms" }', 'retry = { initial_backoff = "100ms", max_backoff = "200ms" }')}`);
  const config = join(dir, 'up.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\nshutdown_timeout = "3s"\n[oom]\nenabled = false\n[ship]\nenabled = true\nconfig = "ship.toml"\n');
  const first = startCli(['up', '--config', config]);
  const done = collect(first, 30_000);
  t.after(() => { if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL'); });
  await waitForLine(first, /"msg":"up"/);
  await appendSeqLines(log, 0, 100);
  await waitForLine(first, /"msg":"delivery failed, retrying"/);
  first.kill('SIGTERM');
  const res = await done;
  // Cut off by up's forced exit, the shipper would end with 70 and without closing its sources.
  assert.equal(res.code, 0, res.stderr);
  await rx.restart();
  const second = startCli(['up', '--config', config]);
  const again = collect(second, 30_000);
  t.after(() => { if (second.exitCode === null && second.signalCode === null) second.kill('SIGKILL'); });
  await rx.waitForSeqs(0, 100);
  second.kill('SIGTERM');
  assert.equal((await again).code, 0);
});

test('up --check-config checks [ship] as ship --check-config does: a plugin that fails to load is exit 78 for both', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const plugin = join(repoRoot, 'src/ship/transforms/testdata/broken.js');
  writeFileSync(file, `data_dir = ${q(data)}
${fileSource('app', log)}[transforms.p]
type = "plugin"
inputs = ["app"]
path = ${q(plugin)}
[sinks.out]
type = "console"
inputs = ["p"]
`);
  const config = join(dir, 'up.toml');
  writeFileSync(config, '[oom]\nenabled = false\n[ship]\nenabled = true\nconfig = "ship.toml"\n');
  for (const args of [['ship', '--config', file, '--check-config'], ['up', '--config', config, '--check-config']]) {
    const res = await runCli(args);
    assert.equal(res.code, 78, `${args[0]}: ${res.stderr}`);
    assert.match(res.stderr, /boom while loading/, args[0]);
  }
});
