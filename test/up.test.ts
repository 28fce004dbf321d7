// End to end: `opsctl up` starts every service of the config, serves its endpoints, stops on SIGTERM.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { collect, repoRoot, runCli, startCli, waitForLine } from './helpers/cli.ts';
import { requireTool } from './helpers/tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-up-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the example config is valid', async () => {
  const res = await runCli(['up', '--config', join(repoRoot, 'examples/opsctl.toml'), '--check-config']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /config ok/);
});

test('a bad config names file, line and key, with exit 78', async () => {
  const res = await runCli(['up', '--config', join(repoRoot, 'test/testdata/bad-up.toml'), '--check-config']);
  assert.equal(res.code, 78);
  assert.match(res.stderr, /OPS_ERR_CONFIG_INVALID: .*bad-up\.toml:4: key "log\.level": /);
});

test('up serves /metrics, /healthz, /readyz and stops cleanly on SIGTERM', async (t) => {
  const config = join(tmp, 'up.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[log]\nformat = "json"\n[oom]\ninterval = "200ms"\n');
  const child = startCli(['up', '--config', config]);
  const done = collect(child, 30_000);
  try {
    const listening = await waitForLine(child, /"msg":"listening"/);
    const address = (JSON.parse(listening) as { address: string }).address;
    const up = await waitForLine(child, /"msg":"up"/);
    assert.match(up, /"services":\["http","oom"\]/);
    const metrics = await fetch(`http://${address}/metrics`);
    assert.equal(metrics.status, 200);
    const body = await metrics.text();
    assert.match(body, /^opsctl_build_info\{/m);
    assert.match(body, /^opsctl_oom_kills_total/m);
    const promtool = requireTool(t, 'promtool', 'prometheus');
    if (promtool) {
      const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    }
    assert.equal((await fetch(`http://${address}/healthz`)).status, 200);
    assert.equal((await fetch(`http://${address}/readyz`)).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.signal, null);
  assert.match(res.stderr, /"msg":"stopped"/);
});

test('up with [probe] serves /probe and the probe metrics on its own address, and reloads on SIGHUP', async () => {
  const probes = join(tmp, 'probes.toml');
  writeFileSync(probes, 'listen = "127.0.0.1:1"  # not used under up\n[[targets]]\nname = "self"\ntarget = "127.0.0.1:1"\nmodule = "tcp_connect"\ninterval = "200ms"\ntimeout = "200ms"\n');
  const config = join(tmp, 'up-probe.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n[probe]\nenabled = true\nconfig = "probes.toml"\n');
  const child = startCli(['up', '--config', config]);
  const done = collect(child, 30_000);
  try {
    const listening = await waitForLine(child, /"msg":"listening"/);
    const address = (JSON.parse(listening) as { address: string }).address;
    assert.match(await waitForLine(child, /"msg":"up"/), /"services":\["http","probe"\]/);
    const probe = await fetch(`http://${address}/probe?target=${address}&module=tcp_connect`);
    assert.equal(probe.status, 200);
    assert.match(await probe.text(), /^probe_success 1$/m);
    let metrics = '';
    for (let i = 0; i < 50 && !/^probe_success\{name="self"/m.test(metrics); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      metrics = await (await fetch(`http://${address}/metrics`)).text();
    }
    assert.match(metrics, /^probe_success\{name="self",target="127\.0\.0\.1:1",module="tcp_connect"\} 0$/m);
    assert.match(metrics, /^opsctl_build_info\{/m);
    child.kill('SIGHUP');
    await waitForLine(child, /"msg":"config reloaded"/);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
});

test('[probe] enabled without a config file is a config error', async () => {
  const config = join(tmp, 'up-probe-bad.toml');
  writeFileSync(config, '[probe]\nenabled = true\n');
  const res = await runCli(['up', '--config', config, '--check-config']);
  assert.equal(res.code, 78);
  assert.match(res.stderr, /up-probe-bad\.toml:1: key "probe\.config": probe\.enabled needs probe\.config/);
});

test('up runs the agent on its own address when [agent] is enabled', async () => {
  const config = join(tmp, 'agent.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n[agent]\nenabled = true\nlisten = "127.0.0.1:0"\ndisable = ["filesystem"]\n');
  const child = startCli(['up', '--config', config]);
  const done = collect(child, 30_000);
  try {
    const up = await waitForLine(child, /"msg":"up"/);
    assert.match(up, /"services":\["http","agent"\]/);
    const agentLine = await waitForLine(child, /"collectors":\[/);
    const parsed = JSON.parse(agentLine) as { address: string; collectors: string[] };
    assert.ok(!parsed.collectors.includes('filesystem'));
    const body = await (await fetch(`http://${parsed.address}/metrics`)).text();
    assert.match(body, /^node_load1 /m);
    assert.doesNotMatch(body, /^node_filesystem_size_bytes/m);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
});

test('SIGHUP without a reloadable service is logged, not fatal', async () => {
  const config = join(tmp, 'hup.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n');
  const child = startCli(['up', '--config', config]);
  const done = collect(child, 30_000);
  try {
    await waitForLine(child, /"msg":"up"/);
    child.kill('SIGHUP');
    await waitForLine(child, /"msg":"nothing to reload"/);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.signal, null);
});

test('up loads only the services its config enables: with [probe] alone, no module of the shipper or the agent', async () => {
  const probes = join(tmp, 'probes-only.toml');
  writeFileSync(probes, '[[targets]]\nname = "self"\ntarget = "127.0.0.1:1"\nmodule = "tcp_connect"\ninterval = "10s"\n');
  const config = join(tmp, 'up-probe-only.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n[probe]\nenabled = true\nconfig = "probes-only.toml"\n');
  const trace = join(tmp, 'modules.txt');
  const child = startCli(['up', '--config', config], { nodeArgs: ['--import', join(repoRoot, 'test/helpers/trace-modules.ts')], env: { TRACE_MODULES_TO: trace } });
  const done = collect(child, 30_000);
  try {
    assert.match(await waitForLine(child, /"msg":"up"/), /"services":\["http","probe"\]/);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  const modules = readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(modules.some((m) => m.includes('/src/probe/serve.ts')), 'the trace lists the probe service');
  // Every command's light command.ts loads (the CLI), and the section schemas (up's config); nothing else of ship.
  assert.deepEqual(modules.filter((m) => m.includes('/src/ship/') && !/\/(command|section)\.ts$/.test(m)), [], 'ship modules loaded');
  assert.deepEqual(modules.filter((m) => /\/src\/agent\/(run|scrape|server)\.ts$/.test(m)), [], 'agent service modules loaded');
});

test('up with [server] and [agent]: the agent links to the server of the same process, one node ready', async () => {
  const config = join(tmp, 'up-server.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[log]\nformat = "json"\n[oom]\nenabled = false\n[server]\nenabled = true\ndata_dir = "server-data"\n[agent]\nenabled = true\nlisten = "127.0.0.1:0"\ndisable = ["filesystem"]\ndata_dir = "agent-data"\nnode_name = "self"\n');
  const child = startCli(['up', '--config', config]);
  const done = collect(child, 60_000);
  try {
    const listening = await waitForLine(child, /\/api\/v1\/link.*"msg":"listening"/);
    const up = await waitForLine(child, /"msg":"up"/);
    assert.match(up, /"services":\["http","server","agent"\]/);
    const address = (JSON.parse(listening) as { address: string }).address;
    const token = await runCli(['server', 'token', 'create', '--config', config, '--sub', 'test', '--scope', 'ops:read']);
    assert.equal(token.code, 0, token.stderr);
    let node: { status?: string } = {};
    for (let i = 0; i < 100 && node.status !== 'ready'; i++) {
      const res = await fetch(`http://${address}/api/v1/nodes/self`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
      if (res.status === 200) node = await res.json() as { status?: string };
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(node.status, 'ready');
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
});
