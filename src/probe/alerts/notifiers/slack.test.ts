import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../../../core/config.ts';
import { silentLogger } from '../../../core/log.ts';
import { DeliveryError } from '../../../core/retry.ts';
import { receiver, resolvedAlert, sampleAlert } from '../testing.ts';
import { slack } from './slack.ts';

const ctx = { log: silentLogger(), now: Date.now };

interface SlackBody { text: string; blocks: Array<{ type: string; text?: { type: string; text: string }; fields?: Array<{ type: string; text: string }> }> }

test('slack: POSTs text and Block Kit blocks to the incoming webhook', async (t) => {
  const r = await receiver(t);
  const notifier = slack.create(validate(slack.schema, { url: `${r.origin}/services/T0/B0/XYZ` }), ctx);
  await notifier.send(sampleAlert({ reason: 'body did not match <ok> & 200' }), AbortSignal.timeout(5000));
  const [req] = r.received;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/services/T0/B0/XYZ');
  assert.equal(req.headers['content-type'], 'application/json');
  const body = JSON.parse(req.body) as SlackBody;
  assert.equal(body.text, ':red_circle: [FIRING] web-1: body did not match &lt;ok&gt; &amp; 200');
  assert.deepEqual(body.blocks.map((b) => b.type), ['section', 'section', 'context']);
  assert.equal(body.blocks[0]?.text?.type, 'mrkdwn');
  const fields = body.blocks[1]?.fields?.map((f) => f.text) ?? [];
  assert.ok(fields.includes('*target*\nhttps://example.com/health'), fields.join(' | '));
  assert.ok(fields.includes('*module*\nhttp_2xx'));
  assert.ok(fields.includes('*team*\nweb'));
});

test('slack: a resolved alert says so and how long it lasted', async (t) => {
  const r = await receiver(t);
  await slack.create(validate(slack.schema, { url: r.origin }), ctx).send(resolvedAlert(), AbortSignal.timeout(5000));
  const body = JSON.parse(r.received[0]?.body ?? '') as SlackBody;
  assert.equal(body.text, ':large_green_circle: [RESOLVED] web-1 after 3m');
  assert.ok(body.blocks[1]?.fields?.some((f) => f.text === '*recovered*\n2025-01-02T03:03:00.000Z'));
});

test('slack: its error replies are DeliveryErrors (invalid_payload is not retried)', async (t) => {
  const r = await receiver(t, (_n, res) => res.writeHead(400).end('invalid_payload'));
  const notifier = slack.create(validate(slack.schema, { url: r.origin }), ctx);
  await assert.rejects(notifier.send(sampleAlert(), AbortSignal.timeout(5000)), (err) => err instanceof DeliveryError && !err.retryable && err.details.body === 'invalid_payload');
});
