import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { DeliveryError } from '../../core/retry.ts';
import { createTestCa } from '../../probe/probers/testing.ts';
import { entry, testContext } from '../testing.ts';
import { http } from './http.ts';
import type { MeasuredWriter } from './writer.ts';

interface Received { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }
type Reply = (res: ServerResponse) => void;

/** A receiver on 127.0.0.1:0 that records requests and answers each with the next reply (default 200). */
async function receiver(replies: Reply[] = [], make: (h: (req: IncomingMessage, res: ServerResponse) => void) => Server | HttpsServer = (h) => createServer(h)) {
  const received: Received[] = [];
  const server = make((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const reply = replies.shift();
      if (reply) reply(res); else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received, port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }),
  };
}

function writer(config: Record<string, unknown>): MeasuredWriter {
  return http.create(http.schema.parse({ type: 'http', ...config }), testContext('api', 'sink'));
}

async function rejection(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the write to fail');
}

const signal = new AbortController().signal;

test('posts NDJSON with its headers and a bearer token', async (t) => {
  const srv = await receiver();
  t.after(srv.close);
  const w = writer({ url: `http://127.0.0.1:${srv.port}/ingest?x=1`, headers: { 'X-Tenant': 'ops' }, auth: { strategy: 'bearer', token: 's3cret' } });
  t.after(() => w.close?.());
  const batch = [entry('one'), entry('two', { level: 'error', fields: { n: 2 } })];
  await w.write(batch, signal);
  const req = srv.received[0];
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/ingest?x=1');
  assert.equal(req.headers['content-type'], 'application/x-ndjson');
  assert.equal(req.headers['x-tenant'], 'ops');
  assert.equal(req.headers.authorization, 'Bearer s3cret');
  assert.match(req.headers['user-agent'] ?? '', /^opsctl\//);
  const lines = req.body.toString('utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), batch);
  assert.equal(w.lastBytes, req.body.length);
});

test('puts a gzipped JSON array with basic auth', async (t) => {
  const srv = await receiver();
  t.after(srv.close);
  const w = writer({ url: `http://127.0.0.1:${srv.port}/`, method: 'PUT', encoding: 'json', compression: 'gzip', auth: { strategy: 'basic', user: 'ann', password: 'pw' } });
  t.after(() => w.close?.());
  const batch = [entry('a'), entry('b'), entry('c')];
  await w.write(batch, signal);
  await w.write([entry('d')], signal); // the same kept-alive connection, again
  const req = srv.received[0];
  assert.ok(req);
  assert.equal(req.method, 'PUT');
  assert.equal(req.headers['content-encoding'], 'gzip');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers.authorization, `Basic ${Buffer.from('ann:pw').toString('base64')}`);
  const text = gunzipSync(req.body).toString('utf8');
  assert.deepEqual(JSON.parse(text), batch);
  assert.equal(srv.received.length, 2);
  // lastBytes counts the body before compression.
  assert.equal(w.lastBytes, gunzipSync(srv.received[1]?.body ?? Buffer.alloc(0)).length);
});

test('a 500 is retryable and the next write goes through', async (t) => {
  const srv = await receiver([(res) => res.writeHead(500).end('database on fire')]);
  t.after(srv.close);
  const w = writer({ url: `http://127.0.0.1:${srv.port}/` });
  t.after(() => w.close?.());
  const err = await rejection(w.write([entry('x')], signal));
  assert.equal(err.retryable, true);
  assert.equal(err.details.status, 500);
  assert.equal(err.details.body, 'database on fire');
  assert.equal(w.lastBytes, undefined);
  await w.write([entry('x')], signal);
  assert.equal(srv.received.length, 2);
});

test('a 429 carries its Retry-After; a 400 is not retryable', async (t) => {
  const srv = await receiver([
    (res) => res.writeHead(429, { 'Retry-After': '7' }).end(),
    (res) => res.writeHead(400).end('bad json'),
  ]);
  t.after(srv.close);
  const w = writer({ url: `http://127.0.0.1:${srv.port}/` });
  t.after(() => w.close?.());
  const limited = await rejection(w.write([entry('x')], signal));
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 7000);
  const bad = await rejection(w.write([entry('x')], signal));
  assert.equal(bad.retryable, false);
  assert.equal(bad.details.status, 400);
});

test('connection refused and timeouts are retryable', async (t) => {
  const srv = await receiver([() => { /* never answers */ }]);
  t.after(srv.close);
  const slow = writer({ url: `http://127.0.0.1:${srv.port}/`, request_timeout: '200ms' });
  t.after(() => slow.close?.());
  const timedOut = await rejection(slow.write([entry('x')], signal));
  assert.equal(timedOut.retryable, true);
  assert.equal(timedOut.message, 'timeout');

  const gone = await receiver();
  await gone.close();
  const w = writer({ url: `http://127.0.0.1:${gone.port}/` });
  t.after(() => w.close?.());
  const refused = await rejection(w.write([entry('x')], signal));
  assert.equal(refused.retryable, true);
  assert.equal(refused.details.error, 'ECONNREFUSED');
});

test('https with the CA from tls.ca_file; an unknown CA fails', async (t) => {
  const ca = createTestCa();
  t.after(() => { ca.remove(); });
  const leaf = ca.issue();
  const srv = await receiver([], (h) => createHttpsServer({ key: leaf.key, cert: leaf.cert }, h));
  t.after(srv.close);
  const w = writer({ url: `https://127.0.0.1:${srv.port}/`, tls: { ca_file: ca.caFile } });
  t.after(() => w.close?.());
  await w.write([entry('secure')], signal);
  assert.equal(srv.received.length, 1);

  const untrusting = writer({ url: `https://127.0.0.1:${srv.port}/` });
  t.after(() => untrusting.close?.());
  const err = await rejection(untrusting.write([entry('x')], signal));
  assert.equal(err.retryable, true);
  const lax = writer({ url: `https://127.0.0.1:${srv.port}/`, tls: { verify: false } });
  t.after(() => lax.close?.());
  await lax.write([entry('x')], signal);
  assert.equal(srv.received.length, 2);
});

test('the schema takes http(s) URLs and known auth strategies only', () => {
  assert.equal(http.schema.safeParse({ type: 'http', url: 'ftp://example.com/' }).success, false);
  assert.equal(http.schema.safeParse({ type: 'http', url: 'http://x/', auth: { strategy: 'digest' } }).success, false);
  assert.equal(http.schema.safeParse({ type: 'http', url: 'http://x/', nope: 1 }).success, false);
  const ok = http.schema.parse({ type: 'http', url: 'https://x/' });
  assert.equal(ok.method, 'POST');
  assert.equal(ok.request_timeout, 30_000);
});
