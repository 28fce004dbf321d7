// End to end: `opsctl probe` one-shot against a local HTTP server, and `opsctl probe serve` with a
// config file: /probe, /metrics, SIGHUP reloads (a broken file keeps it serving), SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { collect, repoRoot, runCli, startCli, waitForLine } from './helpers/cli.ts';
import { requireTool } from './helpers/tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-probe-'));
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/ok' ? 200 : 503;
    res.end(req.url === '/ok' ? 'ok' : 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('one-shot: every target up is exit 0 with a ✓ line each', async () => {
  const res = await runCli(['probe', `${base}/ok`, `tcp://${base.slice('http://'.length)}`]);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', new RegExp(`^✓ ${base}/ok +\\d+(\\.\\d)?m?s$`));
  assert.match(lines[1] ?? '', /^✓ tcp:\/\/127\.0\.0\.1:\d+ +\d+(\.\d)?m?s$/);
});

test('one-shot: a failure is a ✗ line with the reason, and exit 1', async () => {
  const res = await runCli(['probe', `${base}/ok`, `${base}/down`, '--timeout', '2s']);
  assert.equal(res.code, 1, res.stderr);
  assert.match(res.stdout, new RegExp(`^✓ ${base}/ok `, 'm'));
  assert.match(res.stdout, new RegExp(`^✗ ${base}/down +\\S+ +.*503`, 'm'));
});

test('one-shot: --condition, --file with comments, --json and -v', async () => {
  const file = join(tmp, 'targets.txt');
  writeFileSync(file, `# services\n${base}/ok\n\n${base}/down   # expected down\n`);
  const json = await runCli(['probe', '--file', file, '--json', '-v', '--condition', 'status == 200']);
  assert.equal(json.code, 1, json.stderr);
  const results = JSON.parse(json.stdout) as Array<{ target: string; prober: string; success: boolean; reason?: string; details: { status?: number }; log?: string[] }>;
  assert.deepEqual(results.map((r) => [r.target, r.prober, r.success, r.details.status]), [[`${base}/ok`, 'http', true, 200], [`${base}/down`, 'http', false, 503]]);
  assert.ok(results[1]?.log?.some((l) => /probe failed/.test(l)), 'the debug log is included with -v');

  const verbose = await runCli(['probe', `${base}/down`, '-v']);
  assert.equal(verbose.code, 1);
  assert.match(verbose.stdout, /^✗ .*\n {4}\+\d\.\d{4}s (debug|info) /m);

  const condition = await runCli(['probe', `${base}/ok`, '--condition', 'status == 204']);
  assert.equal(condition.code, 1);
  assert.match(condition.stdout, /condition failed: status == 204/);
});

test('one-shot: no targets, an unknown scheme or a bad condition is a usage error (64)', async () => {
  const none = await runCli(['probe']);
  assert.equal(none.code, 64);
  assert.match(none.stderr, /OPS_ERR_USAGE: no targets/);
  const scheme = await runCli(['probe', 'ftp://example.test']);
  assert.equal(scheme.code, 64);
  assert.match(scheme.stderr, /OPS_ERR_USAGE: target "ftp:\/\/example\.test": unknown scheme/);
  const cond = await runCli(['probe', `${base}/ok`, '--condition', 'status ==']);
  assert.equal(cond.code, 64);
  assert.equal((await runCli(['probe', `${base}/ok`, '--timeout', 'soon'])).code, 64);
});

const serveConfig = (extra = ''): string => `
listen = "127.0.0.1:0"
[modules.http_2xx]
prober = "http"
timeout = "2s"
conditions = ["status >= 200 && status < 300"]

[[targets]]
name = "ok"
target = "${base}/ok"
module = "http_2xx"
interval = "200ms"
timeout = "200ms"
labels = { team = "core" }
${extra}`;

test('serve --check-config: ok, or exit 78 naming file, line and key', async () => {
  const good = join(tmp, 'good.toml');
  writeFileSync(good, serveConfig());
  const ok = await runCli(['probe', 'serve', '--config', good, '--check-config']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /config ok: .*good\.toml \(\d+ modules, 1 targets\)/);
  const bad = join(tmp, 'bad.toml');
  writeFileSync(bad, serveConfig().replace('module = "http_2xx"', 'module = "http_3xx"'));
  const res = await runCli(['probe', 'serve', '--config', bad, '--check-config']);
  assert.equal(res.code, 78);
  assert.match(res.stderr, /OPS_ERR_CONFIG_INVALID: .*bad\.toml:11: key "targets\.0\.module": .*"http_3xx"/);
  assert.equal((await runCli(['probe', 'serve', '--config', join(repoRoot, 'examples/probes.toml'), '--check-config'])).code, 0);
});

test('serve: /probe and /metrics; SIGHUP with a broken file keeps serving; SIGTERM exits 0', async (t) => {
  const config = join(tmp, 'probes.toml');
  writeFileSync(config, serveConfig());
  const child = startCli(['probe', 'serve', '--config', config]);
  const done = collect(child, 30_000);
  try {
    const listening = await waitForLine(child, /"msg":"listening"/);
    const address = (JSON.parse(listening) as { address: string }).address;
    const probe = async (target: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`http://${address}/probe?target=${encodeURIComponent(target)}&module=http_2xx`, { headers });

    const up = await probe(`${base}/ok`, { 'X-Prometheus-Scrape-Timeout-Seconds': '5' });
    assert.equal(up.status, 200);
    assert.match(up.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const upBody = await up.text();
    assert.match(upBody, /^probe_success 1$/m);
    assert.match(upBody, /^probe_http_status_code 200$/m);
    const down = await probe(`${base}/down`);
    assert.equal(down.status, 200);
    assert.match(await down.text(), /^probe_success 0$/m);
    assert.equal((await fetch(`http://${address}/probe?target=x&module=nope`)).status, 400);

    let metrics = '';
    for (let i = 0; i < 50 && !/^probe_success\{name="ok"/m.test(metrics); i++) {
      await sleep(100);
      metrics = await (await fetch(`http://${address}/metrics`)).text();
    }
    assert.match(metrics, new RegExp(`^probe_success\\{name="ok",target="${base}/ok",module="http_2xx",team="core"\\} 1$`, 'm'));
    assert.match(metrics, /^opsctl_probe_results_total\{name="ok",.*result="success"\} [1-9]/m);
    const promtool = requireTool(t, 'promtool', 'prometheus');
    if (promtool) {
      const lint = spawnSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    }

    writeFileSync(config, 'listen = "127.0.0.1:0"\n[modules.http_2xx]\nprober = "http"\ntimeout = "forever"\n');
    child.kill('SIGHUP');
    await waitForLine(child, /"msg":"reload failed, keeping the running config"/);
    assert.match((await probe(`${base}/ok`).then((r) => r.text())), /^probe_success 1$/m, 'still serving');
    metrics = await (await fetch(`http://${address}/metrics`)).text();
    assert.match(metrics, /^opsctl_config_last_reload_successful\{service="probe"\} 0$/m);
    assert.match(metrics, /^probe_success\{name="ok"/m, 'still probing the old targets');

    writeFileSync(config, serveConfig().replace('name = "ok"', 'name = "renamed"'));
    child.kill('SIGHUP');
    await waitForLine(child, /"msg":"config reloaded"/);
    const targets = await (await fetch(`http://${address}/api/v1/targets`)).json() as { targets: Array<{ name: string }> };
    assert.deepEqual(targets.targets.map((x) => x.name), ['renamed']);
  } finally {
    child.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.signal, null);
  assert.match(res.stderr, /"msg":"stopped"/);
});
