import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../../../core/config.ts';
import { silentLogger } from '../../../core/log.ts';
import { receiver, resolvedAlert, sampleAlert } from '../testing.ts';
import { alertmanager, alertsEndpoint, type PostableAlert } from './alertmanager.ts';

const ctx = { log: silentLogger(), now: Date.now };

test('alertmanager: POSTs a v2 alert list to /api/v2/alerts', async (t) => {
  const r = await receiver(t);
  const config = validate(alertmanager.schema, { url: r.origin, generator_url: 'http://opsctl.example:9115/' });
  const notifier = alertmanager.create(config, ctx);
  await notifier.send(sampleAlert({ labels: { team: 'web', 'app.kubernetes.io/name': 'shop', empty: '', alertname: 'Mine' } }), AbortSignal.timeout(5000));
  const [req] = r.received;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/api/v2/alerts');
  assert.equal(req.headers['content-type'], 'application/json');
  const [alert, ...rest] = JSON.parse(req.body) as PostableAlert[];
  assert.equal(rest.length, 0);
  assert.deepEqual(alert?.labels, {
    team: 'web',
    app_kubernetes_io_name: 'shop',
    alertname: 'ProbeFailed',
    target: 'web-1',
    instance: 'https://example.com/health',
    module: 'http_2xx',
  });
  assert.equal(alert.startsAt, '2025-01-02T03:00:00.000Z');
  // Held for 4 refreshes (1 min) or 4 probe intervals, whichever is longer, from the notification.
  assert.equal(alert.endsAt, '2025-01-02T03:06:00.000Z');
  assert.equal(alert.generatorURL, 'http://opsctl.example:9115/');
  assert.equal(alert.annotations.summary, 'Probe web-1 (http_2xx) is failing: status 503 not in [200-299]');
  assert.match(alert.annotations.description ?? '', /^http_2xx probe of https:\/\/example.com\/health has been failing for 2m, since 2025-01-02T03:00:00.000Z: status 503/);
  assert.equal(alert.annotations.reason, 'status 503 not in [200-299]');
});

test('alertmanager: a resolved alert ends when the target recovered', async (t) => {
  const r = await receiver(t);
  await alertmanager.create(validate(alertmanager.schema, { url: `${r.origin}/` }), ctx).send(resolvedAlert(), AbortSignal.timeout(5000));
  const [alert] = JSON.parse(r.received[0]?.body ?? '') as PostableAlert[];
  assert.equal(alert?.endsAt, '2025-01-02T03:03:00.000Z');
  assert.equal(alert.startsAt, '2025-01-02T03:00:00.000Z');
  assert.equal(alert.generatorURL, undefined);
});

test('alertmanager: a long probe interval holds the alert for 4 intervals', async (t) => {
  const r = await receiver(t);
  await alertmanager.create(validate(alertmanager.schema, { url: r.origin }), ctx).send(sampleAlert({ intervalMs: 3_600_000 }), AbortSignal.timeout(5000));
  const [alert] = JSON.parse(r.received[0]?.body ?? '') as PostableAlert[];
  assert.equal(alert?.endsAt, '2025-01-02T07:02:00.000Z');
});

test('alertmanager: the endpoint keeps a base path', () => {
  assert.equal(alertsEndpoint('http://127.0.0.1:9093'), 'http://127.0.0.1:9093/api/v2/alerts');
  assert.equal(alertsEndpoint('http://127.0.0.1:9093/'), 'http://127.0.0.1:9093/api/v2/alerts');
  assert.equal(alertsEndpoint('https://ops.example/alertmanager'), 'https://ops.example/alertmanager/api/v2/alerts');
});

test('alertmanager: it refreshes and always hears of resolves', () => {
  const notifier = alertmanager.create(validate(alertmanager.schema, { url: 'http://127.0.0.1:9093' }), ctx);
  assert.equal(notifier.refreshMs, 60_000);
  assert.equal(notifier.alwaysResolve, true);
});
