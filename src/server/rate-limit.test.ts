// The token bucket on an injected clock, its memory bound, client keys, and the per-IP connection limit on a real listener.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { ConnectionLimiter, RateLimiter, clientKey, rateLimitByClient, rateLimitHeaders } from './rate-limit.ts';

test('a bucket allows the burst at once, then one request per 1/rate seconds', () => {
  let now = 1_000;
  const limiter = new RateLimiter({ rate: 10, burst: 3, maxKeys: 10, now: () => now });
  const taken = [1, 2, 3, 4].map(() => limiter.take('k'));
  assert.deepEqual(taken.map((d) => d.allowed), [true, true, true, false]);
  assert.deepEqual(taken.map((d) => d.remaining), [2, 1, 0, 0]);
  assert.equal(taken[3]?.retryAfterSeconds, 1, 'Retry-After rounds 0.1s up to 1');
  assert.equal(taken[2]?.resetSeconds, 1, 'refilling 3 tokens at 10/s takes 0.3s, rounded up');
  now += 99;
  assert.equal(limiter.take('k').allowed, false, 'not yet a whole token');
  now += 1;
  assert.equal(limiter.take('k').allowed, true, 'a whole token after 100ms');
  now += 60_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('k').allowed), [true, true, true, false], 'an idle bucket refills to the burst, not beyond');
});

test('a refused request takes nothing, and the wait is ceil((1 - tokens) / rate) seconds', () => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 0.25, burst: 1, maxKeys: 10, now: () => now });
  assert.equal(limiter.take('k').allowed, true);
  const refused = [limiter.take('k'), limiter.take('k')];
  assert.deepEqual(refused.map((d) => d.retryAfterSeconds), [4, 4]);
  now += 3_000;
  assert.equal(limiter.take('k').retryAfterSeconds, 1);
  now += 1_000;
  assert.equal(limiter.take('k').allowed, true, 'the refusals did not push the next token back');
  assert.deepEqual(rateLimitHeaders(refused[0] as never), { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '4', 'retry-after': '4' });
});

test('memory is bounded: past maxKeys the least recently used bucket goes', () => {
  const now = 0;
  const limiter = new RateLimiter({ rate: 1, burst: 1, maxKeys: 100, now: () => now });
  assert.equal(limiter.take('hot').allowed, true);
  for (let i = 0; i < 10_000; i++) {
    limiter.take(`ip:${i}`);
    if (i % 50 === 0) assert.equal(limiter.take('hot').allowed, false, 'a key in use is kept (and stays empty)');
  }
  assert.equal(limiter.size, 100);
  assert.equal(limiter.take('ip:0').allowed, true, 'an evicted key starts again with a full bucket');
});

test('clientKey groups IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
  assert.equal(clientKey('192.0.2.7'), 'ip:192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), 'ip:192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), 'ip:2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::ffff'), clientKey('2001:0db8:0001:0002:1:2:3:4'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
  assert.equal(clientKey('::1'), 'ip:0:0:0:0::/64');
  assert.equal(clientKey('fe80::1%eth0'), 'ip:fe80:0:0:0::/64');
});

test('rateLimitByClient limits public routes per IP and sets the headers on every answer', async (t) => {
  const limiter = new RateLimiter({ rate: 1, burst: 1, maxKeys: 10, now: () => 0 });
  const app = Fastify();
  t.after(() => app.close());
  app.get('/x', { onRequest: rateLimitByClient(limiter) }, () => 'ok');
  const a = await app.inject({ url: '/x', remoteAddress: '10.1.1.1' });
  assert.equal(a.statusCode, 200);
  assert.equal(a.headers['ratelimit-limit'], '1');
  const b = await app.inject({ url: '/x', remoteAddress: '10.1.1.1' });
  assert.equal(b.statusCode, 429);
  assert.equal(b.headers['retry-after'], '1');
  assert.equal((await app.inject({ url: '/x', remoteAddress: '10.1.1.2' })).statusCode, 200);
});

test('ConnectionLimiter closes connections past the per-IP limit and counts them free again on close', async (t) => {
  const limiter = new ConnectionLimiter({ maxPerClient: 2 });
  const app = Fastify();
  app.get('/x', () => 'ok');
  limiter.attach(app.server);
  const serverSockets: Socket[] = [];
  app.server.on('connection', (s: Socket) => serverSockets.push(s));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as { port: number };
  const open = (): Promise<Socket> => new Promise((resolve, reject) => { const s = connect(port, '127.0.0.1', () => resolve(s)).on('error', reject); });
  const closed = (s: Socket): Promise<void> => new Promise((resolve) => { if (s.closed) resolve(); else s.once('close', () => resolve()); });
  const get = (s: Socket): Promise<string> => new Promise((resolve, reject) => {
    s.once('data', (d) => resolve(d.toString())).once('error', reject).write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  const [one, two] = [await open(), await open()];
  const three = await open();
  three.on('error', () => undefined);
  await closed(three);
  assert.equal(limiter.rejected, 1);
  assert.equal(limiter.count('ip:127.0.0.1'), 2);
  assert.match(await get(one), /^HTTP\/1.1 200/, 'the connections under the limit still work');
  assert.match(await get(two), /^HTTP\/1.1 200/);

  one.destroy();
  await closed(serverSockets[0] as Socket);
  assert.equal(limiter.count('ip:127.0.0.1'), 1);
  const four = await open();
  assert.match(await get(four), /^HTTP\/1.1 200/, 'a closed connection frees its place');
  two.destroy();
  four.destroy();
});
