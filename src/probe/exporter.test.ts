import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../core/http.ts';
import { silentLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { ReloadMetrics, registerReloadRoute, reloadAll } from '../core/service.ts';
import { requireTool } from '../../test/helpers/tools.ts';
import { registerProbeRoutes, scrapeTimeoutMs } from './exporter.ts';
import { ProbeService } from './service.ts';
import { fakeProber, type FakeProber } from './testdata/fake-prober.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-exporter-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const baseConfig = `
listen = "127.0.0.1:0"
timeout_offset = "500ms"
[modules.web]
prober = "http"
timeout = "5s"
[modules.checked]
prober = "http"
timeout = "2s"
conditions = ["status == 200"]
`;

const scheduled = `
[[targets]]
name = "api"
target = "http://api.test/ok"
module = "web"
interval = "100ms"
timeout = "100ms"
labels = { team = "core", env = "prod" }

[[targets]]
name = "broken"
target = "http://api.test/503"
module = "checked"
interval = "100ms"
timeout = "100ms"
`;

interface Setup { app: FastifyInstance; service: ProbeService; fake: FakeProber; file: string }

async function setup(t: TestContext, toml: string, start = false): Promise<Setup> {
  const file = join(tmp, `${t.name.replace(/\W+/g, '-')}.toml`);
  writeFileSync(file, toml);
  const fake = fakeProber();
  const registry = createRegistry();
  const log = silentLogger();
  const service = new ProbeService({ file, log, registry, probers: { http: fake } });
  const app = createHttpServer({ registry, log, exposition: [() => service.exposition()] });
  registerProbeRoutes(app, service);
  // /-/reload as the runner serves it (core/runner.ts), with its reload metrics.
  const reloads = new ReloadMetrics(registry);
  reloads.loaded('probe');
  registerReloadRoute(app, () => reloadAll([{ name: 'probe', service: { start: () => undefined, stop: () => undefined, reload: () => service.reload() } }], reloads));
  await app.ready();
  if (start) service.start();
  t.after(async () => {
    await service.stop();
    await app.close();
  });
  return { app, service, fake, file };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('/probe: unknown module, missing target and a bad timeout header are 400s with a message', async (t) => {
  const { app, fake } = await setup(t, baseConfig);
  const unknown = await app.inject('/probe?target=http://x.test/&module=nope');
  assert.equal(unknown.statusCode, 400);
  assert.match(unknown.body, /Unknown module "nope" \(modules: checked, grpc, http_2xx, icmp, tcp_connect, web\)/);
  const missing = await app.inject('/probe?module=web');
  assert.equal(missing.statusCode, 400);
  assert.match(missing.body, /Target parameter is missing/);
  const header = await app.inject({ url: '/probe?target=http://x.test/&module=web', headers: { 'x-prometheus-scrape-timeout-seconds': 'soon' } });
  assert.equal(header.statusCode, 400);
  assert.match(header.body, /Failed to parse timeout/);
  assert.equal(fake.calls.length, 0, 'nothing was probed');
});

test('/probe: a success is probe_success 1 with the prober samples and no target labels', async (t) => {
  const { app } = await setup(t, baseConfig);
  const res = await app.inject('/probe?target=http://api.test/ok&module=web');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(res.body, /^# HELP probe_success Displays whether or not the probe was a success\n# TYPE probe_success gauge\nprobe_success 1$/m);
  assert.match(res.body, /^probe_duration_seconds \d+(\.\d+)?(e-\d+)?$/m);
  assert.match(res.body, /^probe_fake_status\{phase="final"\} 200$/m);
  assert.doesNotMatch(res.body, /target=|module=|name=/);
});

test('/probe: a failed probe or condition is still 200, with probe_success 0', async (t) => {
  const { app } = await setup(t, baseConfig);
  const failed = await app.inject('/probe?target=http://api.test/fail&module=web');
  assert.equal(failed.statusCode, 200);
  assert.match(failed.body, /^probe_success 0$/m);
  assert.match(failed.body, /^probe_fake_status\{phase="final"\} 503$/m);
  // The module's condition "status == 200" fails on the fake's 503.
  const condition = await app.inject('/probe?target=http://api.test/503&module=checked');
  assert.match(condition.body, /^probe_success 0$/m);
  assert.match(condition.body, /^probe_fake_status\{phase="final"\} 503$/m);
  assert.match((await app.inject('/probe?target=http://api.test/503&module=web')).body, /^probe_success 1$/m, 'no condition, no failure');
});

test('/probe: the module defaults to http_2xx, as blackbox does', async (t) => {
  const { app, fake } = await setup(t, baseConfig);
  const res = await app.inject('/probe?target=http://api.test/ok');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /^probe_success 1$/m);
  assert.equal(fake.calls[0]?.target, 'http://api.test/ok');
});

test('/probe: the timeout is the shorter of the module and the scrape timeout minus the offset', async (t) => {
  const { app, fake } = await setup(t, baseConfig);
  const timeoutFor = async (header?: string): Promise<number | undefined> => {
    await app.inject({ url: '/probe?target=http://api.test/ok&module=web', headers: header === undefined ? {} : { 'x-prometheus-scrape-timeout-seconds': header } });
    return fake.calls.at(-1)?.timeoutMs;
  };
  assert.equal(await timeoutFor(), 5000, 'no header: the module');
  assert.equal(await timeoutFor('3'), 2500, 'scrape timeout 3s - 0.5s');
  assert.equal(await timeoutFor('10'), 5000, 'the module is shorter');
  assert.equal(await timeoutFor('0.4'), 5000, 'nothing left after the offset: the module');
  assert.equal(await timeoutFor('1.2345'), 735, 'whole milliseconds');
  assert.deepEqual([scrapeTimeoutMs(undefined, 500), scrapeTimeoutMs('-1', 500), scrapeTimeoutMs(['2', '9'], 0)], [119_500, undefined, 2000]);
});

test('/probe?debug=true: the probe log, then the metrics, then the module, as text', async (t) => {
  const { app } = await setup(t, baseConfig);
  const res = await app.inject('/probe?target=http://api.test/fail&module=checked&debug=true');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  const [logs, metrics, module] = res.body.split(/\n\n\n+/);
  assert.match(logs ?? '', /^Logs for the probe:\n\+0\.0000s info beginning probe module="checked" prober=http target="http:\/\/api\.test\/fail" timeout_seconds=2\n/);
  assert.match(logs ?? '', /debug fake probe target="http:\/\/api\.test\/fail"/);
  assert.match(logs ?? '', /info probe failed .*reason="told to fail"/);
  assert.match(metrics ?? '', /^Metrics that would have been returned:\n# HELP /);
  assert.match(metrics ?? '', /^probe_success 0$/m);
  assert.match(module ?? '', /^Module configuration:\n\{\n {2}"prober": "http",\n {2}"timeout": "2000ms",\n {2}"conditions": \[\n {4}"status == 200"\n {2}\],\n {2}"method": "GET"/);
  assert.match(module ?? '', /"status == 200"/);
});

test('/metrics: every scheduled target under blackbox names, with its labels, and the counters; promtool accepts it', async (t) => {
  const { app, service } = await setup(t, baseConfig + scheduled, true);
  await waitFor(() => service.status().every((s) => s.health !== 'unknown'), 'a first result for every target');
  const res = await app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  const body = res.body;
  assert.match(body, /^probe_success\{name="api",target="http:\/\/api\.test\/ok",module="web",team="core",env="prod"\} 1$/m);
  assert.match(body, /^probe_success\{name="broken",target="http:\/\/api\.test\/503",module="checked"\} 0$/m);
  assert.match(body, /^probe_duration_seconds\{name="api",target="http:\/\/api\.test\/ok",module="web",team="core",env="prod"\} [\d.e-]+$/m);
  assert.match(body, /^probe_fake_status\{name="api",target="http:\/\/api\.test\/ok",module="web",team="core",env="prod",phase="final"\} 200$/m);
  assert.match(body, /^opsctl_probe_results_total\{name="api",target="http:\/\/api\.test\/ok",module="web",result="success"\} [1-9]\d*$/m);
  assert.match(body, /^opsctl_probe_results_total\{name="broken",target="http:\/\/api\.test\/503",module="checked",result="failure"\} [1-9]\d*$/m);
  assert.match(body, /^opsctl_probe_skipped_total\{name="api",target="http:\/\/api\.test\/ok",module="web"\} 0$/m);
  assert.match(body, /^opsctl_config_last_reload_successful\{service="probe"\} 1$/m);
  assert.equal(body.match(/^# HELP probe_success /gm)?.length, 1, 'one family, one HELP');
  const promtool = requireTool(t, 'promtool', 'prometheus');
  if (promtool) {
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
  }
});

test('/api/v1/targets lists each target with its last result', async (t) => {
  const { app, service } = await setup(t, baseConfig + scheduled, true);
  await waitFor(() => service.status().every((s) => s.health !== 'unknown'), 'a first result for every target');
  const res = await app.inject('/api/v1/targets');
  assert.equal(res.statusCode, 200);
  const { targets } = res.json<{ targets: Array<Record<string, unknown> & { lastResult?: Record<string, unknown> }> }>();
  assert.deepEqual(targets.map((x) => [x.name, x.health, x.module, x.intervalSeconds]), [['api', 'up', 'web', 0.1], ['broken', 'down', 'checked', 0.1]]);
  assert.deepEqual(targets[0]?.labels, { team: 'core', env: 'prod' });
  assert.equal(targets[1]?.lastResult?.reason, 'condition failed: status == 200');
});

test('reload: a valid file swaps targets and modules; an invalid one is a 500 and changes nothing', async (t) => {
  const { app, service, file } = await setup(t, baseConfig + scheduled, true);
  writeFileSync(file, `${baseConfig}
[modules.extra]
prober = "http"
[[targets]]
name = "new"
target = "http://api.test/new"
module = "extra"
interval = "100ms"
timeout = "100ms"
`);
  const ok = await app.inject({ method: 'POST', url: '/-/reload' });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(service.status().map((s) => s.name), ['new']);
  assert.equal((await app.inject('/probe?target=http://api.test/ok&module=extra')).statusCode, 200, 'the new module serves /probe');
  await waitFor(() => service.status()[0]?.health === 'up', 'the new target to run');
  let metrics = (await app.inject('/metrics')).body;
  assert.doesNotMatch(metrics, /name="api"/, 'the removed targets are gone from /metrics');
  assert.match(metrics, /^probe_success\{name="new",/m);

  writeFileSync(file, `${baseConfig}\n[[targets]]\nname = "bad"\ntarget = "x"\nmodule = "nope"\n`);
  const bad = await app.inject({ method: 'POST', url: '/-/reload' });
  assert.equal(bad.statusCode, 500);
  assert.match(bad.body, /reload failed, the running config is unchanged:\nOPS_ERR_CONFIG_INVALID: .*\.toml:\d+: key "targets\.0\.module": .*"nope"/);
  assert.deepEqual(service.status().map((s) => s.name), ['new'], 'still running the old targets');
  assert.equal((await app.inject('/probe?target=http://api.test/ok&module=extra')).statusCode, 200, 'and the old modules');
  metrics = (await app.inject('/metrics')).body;
  assert.match(metrics, /^opsctl_config_last_reload_successful\{service="probe"\} 0$/m);
  assert.match(metrics, /^opsctl_config_last_reload_success_timestamp_seconds\{service="probe"\} \d+/m);

  writeFileSync(file, baseConfig);
  assert.equal((await app.inject({ method: 'PUT', url: '/-/reload' })).statusCode, 200);
  assert.match((await app.inject('/metrics')).body, /^opsctl_config_last_reload_successful\{service="probe"\} 1$/m);
});

test('an unchanged target keeps its last result and counts across a reload', async (t) => {
  const { app, service, file } = await setup(t, baseConfig + scheduled, true);
  await waitFor(() => service.status().every((s) => s.health !== 'unknown'), 'a first result for every target');
  writeFileSync(file, baseConfig + scheduled.replace('interval = "100ms"\ntimeout = "100ms"\nlabels', 'interval = "10s"\ntimeout = "100ms"\nlabels'));
  const before = service.status()[0]?.results.success ?? 0;
  assert.equal((await app.inject({ method: 'POST', url: '/-/reload' })).statusCode, 200);
  const api = service.status()[0];
  assert.equal(api?.health, 'up');
  assert.equal(api?.intervalSeconds, 10);
  assert.ok((api?.results.success ?? 0) >= before);
});
