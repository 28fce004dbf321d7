// End to end with a real Alertmanager (Debian's prometheus-alertmanager): Alerting fires a probe
// alert into it through /api/v2/alerts, the API shows it active with our labels, and resolves it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { validate } from '../src/core/config.ts';
import { silentLogger } from '../src/core/log.ts';
import { Registry } from '../src/core/metrics.ts';
import { Alerting, alertsSchema, type ObservedResult } from '../src/probe/alerts/index.ts';
import { freePort, stopChild } from './helpers/process.ts';
import { requireTool } from './helpers/tools.ts';


/** Polls `check` until it returns a value, or fails with `what` (and Alertmanager's log) after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, log: () => string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- alertmanager log ---\n${log()}`);
    await sleep(100);
  }
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

test('a real Alertmanager receives the probe alert with our labels, then sees it resolved', async (t) => {
  const binary = requireTool(t, 'prometheus-alertmanager', 'prometheus-alertmanager');
  if (!binary) return;
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-am-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'alertmanager.yml'), 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');

  const port = await freePort();
  const am = spawn(binary, [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => stopChild(am));
  let log = '';
  am.stderr?.setEncoding('utf8').on('data', (d: string) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  await until('Alertmanager to be ready', async () => {
    if (am.exitCode !== null) throw new Error(`alertmanager exited with ${am.exitCode}:\n${log}`);
    return (await fetch(`${base}/-/ready`)).ok ? true : undefined;
  }, () => log);

  const registry = new Registry();
  const config = validate(alertsSchema, { failure_threshold: 2, success_threshold: 2, alertmanager: [{ url: base }] });
  const alerting = new Alerting({ config, log: silentLogger(), registry, stopGraceMs: 2000 });
  t.after(() => alerting.stop());
  const name = `web-${process.pid}`;
  const observe = (success: boolean): void => {
    const result: ObservedResult = {
      name, target: 'http://127.0.0.1:1/health', module: 'http_2xx', labels: { team: 'sre', 'app.name': 'shop' },
      success, reason: success ? undefined : 'connection refused', phases: {}, details: {}, durationMs: 2, startedAt: Date.now() - 2,
    };
    alerting.observe(result);
  };
  const ours = async (): Promise<GettableAlert[]> => {
    const res = await fetch(`${base}/api/v2/alerts?filter=${encodeURIComponent(`target="${name}"`)}`);
    assert.equal(res.status, 200);
    return (await res.json()) as GettableAlert[];
  };

  observe(false);
  await sleep(300);
  assert.deepEqual(await ours(), [], 'one failure is below the threshold: nothing is sent');
  const before = Date.now();
  observe(false);
  const [alert] = await until('the alert to be active in Alertmanager', async () => {
    const found = await ours();
    return found.length > 0 ? found : undefined;
  }, () => log);
  assert.ok(alert);
  assert.deepEqual(alert.labels, {
    alertname: 'ProbeFailed', target: name, instance: 'http://127.0.0.1:1/health', module: 'http_2xx', team: 'sre', app_name: 'shop',
  });
  assert.equal(alert.status.state, 'active');
  assert.match(alert.annotations.summary ?? '', /^Probe web-\d+ \(http_2xx\) is failing: connection refused$/);
  assert.equal(alert.annotations.reason, 'connection refused');
  assert.ok(Date.parse(alert.startsAt) <= before, 'it started with the first failed probe');
  assert.ok(Date.parse(alert.endsAt) > Date.now() + 60_000, 'it is held well beyond the next refresh');

  observe(true);
  await sleep(300);
  assert.equal((await ours())[0]?.status.state, 'active', 'one success is below the threshold: still firing');
  observe(true);
  await until('the alert to be resolved', async () => {
    const found = await ours();
    // Alertmanager's API lists only unresolved alerts: a resolved one (endsAt past) disappears.
    return found.length === 0 ? true : undefined;
  }, () => log);

  // Its own count of what it was sent confirms the last post was a resolve (endsAt in the past).
  const received = await (await fetch(`${base}/metrics`)).text();
  assert.match(received, /^alertmanager_alerts_received_total\{status="resolved",version="v2"\} 1$/m);
  assert.match(received, /^alertmanager_alerts_received_total\{status="firing",version="v2"\} 1$/m);

  await alerting.stop();
  const metrics = await registry.metrics();
  assert.match(metrics, /^opsctl_probe_alerts_sent_total\{notifier="alertmanager",status="firing"\} 1$/m);
  assert.match(metrics, /^opsctl_probe_alerts_sent_total\{notifier="alertmanager",status="resolved"\} 1$/m);
  assert.match(metrics, /^opsctl_probe_alert_notification_errors_total\{notifier="alertmanager"\} 0$/m);
});
