import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { validate } from '../../../core/config.ts';
import { silentLogger } from '../../../core/log.ts';
import { DeliveryError } from '../../../core/retry.ts';
import { receiver, resolvedAlert, sampleAlert } from '../testing.ts';
import { cutToBytes, wecom, wecomBody } from './wecom.ts';

const ctx = { log: silentLogger(), now: Date.now };

function answering(errcodes: number[]) {
  return (n: number, res: ServerResponse) => {
    const errcode = errcodes[n - 1] ?? 0;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode, errmsg: errcode === 0 ? 'ok' : 'error' }));
  };
}

test('wecom: POSTs a markdown message to the robot webhook', async (t) => {
  const r = await receiver(t, answering([0, 0]));
  const notifier = wecom.create(validate(wecom.schema, { url: `${r.origin}/cgi-bin/webhook/send?key=abc-123` }), ctx);
  await notifier.send(sampleAlert(), AbortSignal.timeout(5000));
  await notifier.send(resolvedAlert(), AbortSignal.timeout(5000));
  const [firing, resolved] = r.received;
  assert.ok(firing && resolved);
  assert.equal(firing.method, 'POST');
  assert.equal(firing.url, '/cgi-bin/webhook/send?key=abc-123');
  assert.equal(firing.headers['content-type'], 'application/json');
  const body = JSON.parse(firing.body) as { msgtype: string; markdown: { content: string } };
  assert.equal(body.msgtype, 'markdown');
  assert.deepEqual(body.markdown.content.split('\n'), [
    '**<font color="warning">[FIRING] web-1: status 503 not in [200-299]</font>**',
    '> target: https://example.com/health',
    '> module: http_2xx',
    '> reason: status 503 not in [200-299]',
    '> since: 2025-01-02T03:00:00.000Z',
    '> failing for: 2m',
    '> team: web',
    '> env: prod',
  ]);
  const content = (JSON.parse(resolved.body) as { markdown: { content: string } }).markdown.content;
  assert.match(content, /^\*\*<font color="info">\[RESOLVED\] web-1 after 3m<\/font>\*\*\n/);
  assert.match(content, /> recovered: 2025-01-02T03:03:00.000Z/);
});

test('wecom: a non-zero errcode in a 200 reply fails; a rate limit may be retried', async (t) => {
  const r = await receiver(t, answering([45009, 93000]));
  const notifier = wecom.create(validate(wecom.schema, { url: r.origin }), ctx);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && err.retryable && err.details.errcode === 45009);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && !err.retryable && err.details.errcode === 93000);
});

test('wecom: a reply that is not JSON is a retryable failure', async (t) => {
  const r = await receiver(t, (_n, res) => res.writeHead(200).end('<html>gateway</html>'));
  const notifier = wecom.create(validate(wecom.schema, { url: r.origin }), ctx);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && err.retryable);
});

test('wecom: content is cut to 4096 bytes without splitting a character', () => {
  const content = wecomBody(sampleAlert({ labels: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`label${i}`, '值'.repeat(5)])) })).markdown.content;
  assert.ok(Buffer.byteLength(content) <= 4096, `${Buffer.byteLength(content)} bytes`);
  assert.ok(content.endsWith('…'));
  assert.equal(cutToBytes('abc', 4096), 'abc');
  assert.equal(cutToBytes('值值值', 7), '值…');
});
