import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { validate } from '../../../core/config.ts';
import { silentLogger } from '../../../core/log.ts';
import { DeliveryError } from '../../../core/retry.ts';
import { receiver, resolvedAlert, sampleAlert } from '../testing.ts';
import { webhook } from './webhook.ts';

const ctx = { log: silentLogger(), now: Date.now };

test('webhook: POSTs the alert as JSON with the configured headers', async (t) => {
  const r = await receiver(t);
  const config = validate(webhook.schema, { url: `${r.origin}/hook?token=s3cret`, headers: { Authorization: 'Bearer abc' } });
  await webhook.create(config, ctx).send(sampleAlert(), AbortSignal.timeout(5000));
  const [req] = r.received;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/hook?token=s3cret');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers.authorization, 'Bearer abc');
  assert.equal(req.headers['user-agent'], 'opsctl');
  assert.deepEqual(JSON.parse(req.body), {
    version: 1,
    status: 'firing',
    kind: 'firing',
    name: 'web-1',
    target: 'https://example.com/health',
    module: 'http_2xx',
    labels: { team: 'web', env: 'prod' },
    reason: 'status 503 not in [200-299]',
    since: '2025-01-02T03:00:00.000Z',
    endedAt: null,
    durationMs: 120_000,
    failures: 3,
    startedAt: '2025-01-02T03:01:59.960Z',
    probeDurationMs: 40,
  });
});

test('webhook: a resolved alert has endedAt and the outage duration', async (t) => {
  const r = await receiver(t);
  await webhook.create(validate(webhook.schema, { url: r.origin }), ctx).send(resolvedAlert(), AbortSignal.timeout(5000));
  const body = JSON.parse(r.received[0]?.body ?? '') as Record<string, unknown>;
  assert.equal(body.status, 'resolved');
  assert.equal(body.endedAt, '2025-01-02T03:03:00.000Z');
  assert.equal(body.durationMs, 180_000);
});

test('webhook: a header cannot change the content type', async (t) => {
  const r = await receiver(t);
  const config = validate(webhook.schema, { url: r.origin, headers: { 'Content-Type': 'text/plain' } });
  await webhook.create(config, ctx).send(sampleAlert(), AbortSignal.timeout(5000));
  assert.equal(r.received[0]?.headers['content-type'], 'application/json');
});

test('webhook: a non-2xx reply is a DeliveryError that says whether to retry', async (t) => {
  const statuses = [503, 400, 429];
  const r = await receiver(t, (n, res) => res.writeHead(statuses[n - 1] ?? 500, { 'retry-after': '7' }).end('nope'));
  const notifier = webhook.create(validate(webhook.schema, { url: r.origin }), ctx);
  const errors: DeliveryError[] = [];
  for (let i = 0; i < 3; i++) {
    await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => {
      assert.ok(err instanceof DeliveryError);
      errors.push(err);
      return true;
    });
  }
  assert.deepEqual(errors.map((e) => [e.details.status, e.retryable, e.retryAfterMs]), [[503, true, 7000], [400, false, 7000], [429, true, 7000]]);
  assert.equal(errors[1]?.details.body, 'nope');
  assert.equal(errors[0]?.code, 'OPS_ERR_WEBHOOK');
});

test('webhook: config parses from TOML with defaults; unknown keys and bad URLs are errors', () => {
  const [table] = (parseToml('[[webhook]]\nurl = "http://127.0.0.1:9000/hook"\n') as { webhook: unknown[] }).webhook;
  assert.deepEqual(validate(webhook.schema, table), { url: 'http://127.0.0.1:9000/hook', headers: {}, max_retries: 5, timeout: 5000 });
  assert.throws(() => validate(webhook.schema, { url: 'http://x', method: 'PUT' }), /key "method": unknown key/);
  assert.throws(() => validate(webhook.schema, { url: 'ftp://x' }), /key "url": expected an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => validate(webhook.schema, { url: 'http://x', headers: { 'bad header': 'v' } }), /expected an HTTP header name/);
  assert.throws(() => validate(webhook.schema, { url: 'http://x', max_retries: -1 }), /key "max_retries"/);
});
