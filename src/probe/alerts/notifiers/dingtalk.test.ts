import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { validate } from '../../../core/config.ts';
import { silentLogger } from '../../../core/log.ts';
import { DeliveryError } from '../../../core/retry.ts';
import { receiver, sampleAlert } from '../testing.ts';
import { dingtalk } from './dingtalk.ts';

const now = 1_735_787_000_123;
const ctx = { log: silentLogger(), now: () => now };
const secret = 'SECb1c5d3e2f0a9';

function ok(_n: number, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
}

test('dingtalk: POSTs a markdown message to a URL signed as DingTalk verifies it', async (t) => {
  const r = await receiver(t, ok);
  const notifier = dingtalk.create(validate(dingtalk.schema, { url: `${r.origin}/robot/send?access_token=tok`, secret }), ctx);
  await notifier.send(sampleAlert(), AbortSignal.timeout(5000));
  const [req] = r.received;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.headers['content-type'], 'application/json');
  // The server side: recompute HMAC-SHA256("timestamp\nsecret") with the secret, base64, and compare.
  const url = new URL(req.url, r.origin);
  assert.equal(url.pathname, '/robot/send');
  assert.equal(url.searchParams.get('access_token'), 'tok');
  const timestamp = url.searchParams.get('timestamp') ?? '';
  assert.equal(timestamp, String(now));
  const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  assert.equal(url.searchParams.get('sign'), expected);
  assert.match(req.url, /&sign=[A-Za-z0-9%]+$/, 'the signature is URL-encoded (+, / and = escaped)');
  const body = JSON.parse(req.body) as { msgtype: string; markdown: { title: string; text: string } };
  assert.equal(body.msgtype, 'markdown');
  assert.equal(body.markdown.title, '[FIRING] web-1: status 503 not in [200-299]');
  assert.match(body.markdown.text, /^### \[FIRING\] web-1: status 503 not in \[200-299\]\n\n- \*\*target\*\*: https:\/\/example.com\/health\n/);
});

test('dingtalk: without a secret the URL is left as configured', async (t) => {
  const r = await receiver(t, ok);
  const notifier = dingtalk.create(validate(dingtalk.schema, { url: `${r.origin}/robot/send?access_token=tok` }), ctx);
  await notifier.send(sampleAlert(), AbortSignal.timeout(5000));
  assert.equal(r.received[0]?.url, '/robot/send?access_token=tok');
});

test('dingtalk: errcode 130101 (too fast) may be retried, 310000 (bad signature) may not', async (t) => {
  const codes = [130101, 310000];
  const r = await receiver(t, (n, res) => res.writeHead(200).end(JSON.stringify({ errcode: codes[n - 1], errmsg: 'x' })));
  const notifier = dingtalk.create(validate(dingtalk.schema, { url: r.origin, secret }), ctx);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && err.retryable);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && !err.retryable && err.details.errcode === 310000);
});
