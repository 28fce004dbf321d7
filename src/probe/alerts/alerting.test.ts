import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { validate } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createRegistry, Registry } from '../../core/metrics.ts';
import { requireTool } from '../../../test/helpers/tools.ts';
import { Alerting, type AlertingOptions, type ObservedResult } from './alerting.ts';
import { alertsSchema } from './config.ts';
import { receiver, type Received } from './testing.ts';

const t0 = Date.UTC(2025, 0, 2, 3, 0, 0);

/** A clock the test moves by hand. */
function clock(start = t0): { now: () => number; advance: (ms: number) => void } {
  let now = start;
  return { now: () => now, advance: (ms) => { now += ms; } };
}

function result(success: boolean, startedAt: number, overrides: Partial<ObservedResult> = {}): ObservedResult {
  return {
    name: 'web-1', target: 'http://127.0.0.1:1/health', module: 'http_2xx', labels: { team: 'web' },
    success, reason: success ? undefined : 'connection refused', phases: {}, details: {}, durationMs: 3, startedAt,
    ...overrides,
  };
}

/** An Alerting from a TOML `[alerts]` body, with fast backoff; stopped when the test ends. */
function alerting(t: TestContext, toml: string, options: Partial<AlertingOptions> = {}): { a: Alerting; registry: Registry } {
  const registry = options.registry ?? new Registry();
  const config = validate(alertsSchema, parseToml(toml));
  const a = new Alerting({ config, log: silentLogger(), registry, backoff: { baseDelayMs: 10 }, random: () => 0, stopGraceMs: 500, ...options });
  t.after(() => a.stop());
  return { a, registry };
}

/** Feeds results, one per minute of the clock: "F" fails, "S" succeeds. */
function feed(a: Alerting, c: ReturnType<typeof clock>, sequence: string, overrides: Partial<ObservedResult> = {}): void {
  for (const ch of sequence) {
    a.observe(result(ch === 'S', c.now() - 5, overrides));
    c.advance(60_000);
  }
}

async function value(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

function bodies(received: Received[]): Array<Record<string, unknown>> {
  return received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

test('alerting: fires after failure_threshold failures and resolves after success_threshold successes', async (t) => {
  const hook = await receiver(t);
  const c = clock();
  const { a, registry } = alerting(t, `[[webhook]]\nurl = "${hook.origin}/hook"\n`, { now: c.now });
  feed(a, c, 'FF');
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 0);
  feed(a, c, 'FFFS');
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 1);
  await hook.waitFor(1);
  feed(a, c, 'S');
  await hook.waitFor(2);
  await a.stop();
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 0);
  assert.deepEqual(bodies(hook.received).map((b) => [b.status, b.kind, b.name, b.since, b.endedAt]), [
    ['firing', 'firing', 'web-1', '2025-01-02T02:59:59.995Z', null],
    ['resolved', 'resolved', 'web-1', '2025-01-02T02:59:59.995Z', '2025-01-02T03:04:59.995Z'],
  ]);
  assert.equal(await value(registry, 'opsctl_probe_alerts_sent_total{notifier="webhook",status="firing"}'), 1);
  assert.equal(await value(registry, 'opsctl_probe_alerts_sent_total{notifier="webhook",status="resolved"}'), 1);
});

test('alerting: targets are independent; reminders come at reminder_interval', async (t) => {
  const hook = await receiver(t);
  const c = clock();
  const { a, registry } = alerting(t, `failure_threshold = 1\nreminder_interval = "3m"\n[[webhook]]\nurl = "${hook.origin}"\n`, { now: c.now });
  for (let i = 0; i < 7; i++) {
    a.observe(result(false, c.now(), { name: 'a' }));
    a.observe(result(i > 0, c.now(), { name: 'b' }));
    c.advance(60_000);
  }
  await hook.waitFor(5);
  assert.deepEqual(bodies(hook.received).map((b) => `${String(b.name)}:${String(b.kind)}`), ['a:firing', 'b:firing', 'b:resolved', 'a:reminder', 'a:reminder']);
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 1);
});

test('alerting: send_resolved = false tells only Alertmanager; only Alertmanager gets refreshes', async (t) => {
  const hook = await receiver(t);
  const am = await receiver(t);
  const c = clock();
  const { a } = alerting(t, `failure_threshold = 1\nsuccess_threshold = 1\nreminder_interval = 0\nsend_resolved = false\n[[webhook]]\nurl = "${hook.origin}"\n[[alertmanager]]\nurl = "${am.origin}"\n`, { now: c.now });
  feed(a, c, 'FFFS');
  await am.waitFor(4);
  await a.stop();
  assert.deepEqual(bodies(hook.received).map((b) => b.kind), ['firing']);
  const posted = am.received.map((r) => (JSON.parse(r.body) as Array<{ endsAt: string }>)[0]?.endsAt);
  // Firing at 03:00 and refreshed at 03:01 and 03:02 (held 4 minutes each time), resolved at 03:03.
  assert.deepEqual(posted, ['2025-01-02T03:04:00.000Z', '2025-01-02T03:05:00.000Z', '2025-01-02T03:06:00.000Z', '2025-01-02T03:02:59.995Z']);
});

test('alerting: 503 twice, then 200: retried with backoff and counted', async (t) => {
  const hook = await receiver(t, (n, res) => res.writeHead(n <= 2 ? 503 : 200).end());
  const { a, registry } = alerting(t, `failure_threshold = 1\n[[webhook]]\nurl = "${hook.origin}"\n`);
  a.observe(result(false, t0));
  await hook.waitFor(3);
  await a.stop();
  const [x, y, z] = hook.received.map((r) => r.at) as [number, number, number];
  assert.ok(y - x >= 4 && z - y >= 9, `backoff grows (${y - x}ms, ${z - y}ms)`);
  assert.equal(await value(registry, 'opsctl_probe_alert_notification_errors_total{notifier="webhook"}'), 2);
  assert.equal(await value(registry, 'opsctl_probe_alerts_sent_total{notifier="webhook",status="firing"}'), 1);
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_failed_total{notifier="webhook"}'), 0);
});

test('alerting: a 400 is not retried; max_retries bounds the attempts', async (t) => {
  const bad = await receiver(t, (_n, res) => res.writeHead(400).end('bad'));
  const down = await receiver(t, (_n, res) => res.writeHead(502).end());
  const { a, registry } = alerting(t, `failure_threshold = 1\n[[webhook]]\nurl = "${bad.origin}"\n[[webhook]]\nurl = "${down.origin}"\nmax_retries = 2\n`, { backoff: { baseDelayMs: 1 } });
  a.observe(result(false, t0));
  await down.waitFor(3);
  await a.stop();
  assert.equal(bad.received.length, 1);
  assert.equal(down.received.length, 3);
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_failed_total{notifier="webhook"}'), 1);
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_failed_total{notifier="webhook-2"}'), 1);
  assert.equal(await value(registry, 'opsctl_probe_alert_notification_errors_total{notifier="webhook-2"}'), 3);
});

test('alerting: 429 waits for its Retry-After', async (t) => {
  const hook = await receiver(t, (n, res) => res.writeHead(n === 1 ? 429 : 200, { 'retry-after': '1' }).end());
  const { a, registry } = alerting(t, `failure_threshold = 1\n[[webhook]]\nurl = "${hook.origin}"\n`);
  a.observe(result(false, t0));
  await hook.waitFor(2);
  const [x, y] = hook.received.map((r) => r.at) as [number, number];
  assert.ok(y - x >= 950, `waited ${y - x}ms, not the 10 ms backoff`);
  await a.stop();
  assert.equal(await value(registry, 'opsctl_probe_alerts_sent_total{notifier="webhook",status="firing"}'), 1);
});

test('alerting: a hanging notifier delays neither observe() nor the other notifiers; stop() is bounded', async (t) => {
  const hanging = await receiver(t, () => undefined);
  const slackish = await receiver(t);
  const { a, registry } = alerting(t, `failure_threshold = 1\nsuccess_threshold = 1\n[[webhook]]\nurl = "${hanging.origin}"\ntimeout = "1m"\n[[slack]]\nurl = "${slackish.origin}"\n`);
  const started = performance.now();
  for (let i = 0; i < 4; i++) a.observe(result(i % 2 === 1, t0 + i));
  assert.ok(performance.now() - started < 50, 'observe() returns at once');
  await slackish.waitFor(4, 2000);
  assert.equal(hanging.received.length, 1);
  const stopping = performance.now();
  await a.stop();
  assert.ok(performance.now() - stopping < 2000, `stop() took ${performance.now() - stopping}ms`);
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_dropped_total{notifier="webhook"}'), 4);
  assert.equal(await value(registry, 'opsctl_probe_alerts_sent_total{notifier="slack",status="resolved"}'), 2);
  a.observe(result(false, t0 + 10));
  assert.equal(slackish.received.length, 4, 'a stopped Alerting sends nothing');
});

test('alerting: the queue is bounded: the oldest waiting notifications are dropped and counted', async (t) => {
  const hanging = await receiver(t, () => undefined);
  const { a, registry } = alerting(t, `failure_threshold = 1\nsuccess_threshold = 1\n[[webhook]]\nurl = "${hanging.origin}"\n`, { maxQueue: 3 });
  for (let i = 0; i < 20; i++) a.observe(result(i % 2 === 1, t0 + i));
  await hanging.waitFor(1);
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_dropped_total{notifier="webhook"}'), 16, '20 - 1 in flight - 3 waiting');
  await a.stop();
  assert.equal(await value(registry, 'opsctl_probe_alert_notifications_dropped_total{notifier="webhook"}'), 20);
});

test('alerting: aborting the signal stops it', async (t) => {
  const hook = await receiver(t);
  const ac = new AbortController();
  const { a } = alerting(t, `failure_threshold = 1\n[[webhook]]\nurl = "${hook.origin}"\n`, { signal: ac.signal });
  ac.abort();
  await a.stop();
  a.observe(result(false, t0));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(hook.received.length, 0);
});

test('alerting: its metrics pass promtool check metrics', async (t) => {
  const promtool = requireTool(t, 'promtool', 'prometheus');
  if (!promtool) return;
  const hook = await receiver(t, (_n, res) => res.writeHead(500).end());
  const { a, registry } = alerting(t, `failure_threshold = 1\n[[webhook]]\nurl = "${hook.origin}"\nmax_retries = 0\n[[alertmanager]]\nurl = "${hook.origin}"\nmax_retries = 0\n`, { registry: createRegistry({ runtime: false }) });
  a.observe(result(false, t0));
  await hook.waitFor(2);
  await a.stop();
  const text = await registry.metrics();
  for (const line of [
    '# TYPE opsctl_probe_alerts_sent_total counter',
    '# TYPE opsctl_probe_alerts_firing gauge',
    'opsctl_probe_alerts_firing 1',
    'opsctl_probe_alert_notifications_failed_total{notifier="alertmanager"} 1',
    'opsctl_probe_alert_notifications_failed_total{notifier="webhook"} 1',
    'opsctl_probe_alerts_sent_total{notifier="webhook",status="resolved"} 0',
  ]) assert.ok(text.split('\n').includes(line), `missing: ${line}`);
  const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
});

test('alerting: a second Alerting on the same registry (a reload) reuses the metrics', (t) => {
  const registry = new Registry();
  alerting(t, '', { registry });
  assert.doesNotThrow(() => alerting(t, '', { registry }));
});

test('alerting: a reload carries the states over: no second firing, and the resolve still comes', async (t) => {
  const hook = await receiver(t);
  const c = clock();
  const registry = new Registry();
  const toml = `failure_threshold = 1\nsuccess_threshold = 1\n[[webhook]]\nurl = "${hook.origin}"\n`;
  const { a: first } = alerting(t, toml, { now: c.now, registry });
  feed(first, c, 'FF');
  await first.stop();
  const { a: second } = alerting(t, toml, { now: c.now, registry, previous: first });
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 1);
  feed(second, c, 'FS');
  await hook.waitFor(2);
  await second.stop();
  assert.deepEqual(bodies(hook.received).map((b) => b.kind), ['firing', 'resolved']);
  assert.equal(await value(registry, 'opsctl_probe_alerts_firing'), 0);
});
