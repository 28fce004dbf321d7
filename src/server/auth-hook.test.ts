// Routes behind authPlugin / requireScope: 403 insufficient_scope, scope implication, rate limits by subject and by IP.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import Fastify from 'fastify';
import { createVerifier, mintToken, type Verifier } from './auth.ts';
import { authPlugin, requireScope, wwwAuthenticate } from './auth-hook.ts';
import type { AuthConfig } from './config.ts';
import { RateLimiter } from './rate-limit.ts';
import { hasScope, scopes, type Scope } from './scopes.ts';
import { authConfig, secretFile, tempDir, testApp } from './testing.ts';

async function keys(t: TestContext): Promise<{ config: AuthConfig; verifier: Verifier; token: (sub: string, scopes: Scope[]) => Promise<string> }> {
  const config = authConfig({ secret_file: secretFile(tempDir(t)) });
  return {
    config,
    verifier: await createVerifier(config),
    token: async (subject, held) => `Bearer ${(await mintToken({ subject, scopes: held, ttl: 3_600_000 }, config)).token}`,
  };
}

test('scope implication: write includes read, admin includes both, agent stands alone', () => {
  const table: Record<Scope, Scope[]> = {
    'ops:read': ['ops:read'],
    'ops:write': ['ops:read', 'ops:write'],
    'ops:admin': ['ops:read', 'ops:write', 'ops:admin'],
    agent: ['agent'],
  };
  for (const held of scopes) {
    for (const required of scopes) assert.equal(hasScope([held], required), table[held].includes(required), `${held} -> ${required}`);
  }
  assert.equal(hasScope([], 'ops:read'), false);
  assert.equal(hasScope(['agent', 'ops:read'], 'ops:write'), false);
});

test('a token without the route scope gets 403 insufficient_scope with the scope in WWW-Authenticate', async (t) => {
  const k = await keys(t);
  const app = await testApp(t, { verifier: k.verifier });
  const cases: Array<[Scope[], string, string, number]> = [
    [['ops:read'], 'POST', '/write', 403],
    [['ops:read'], 'GET', '/read', 200],
    [['ops:write'], 'GET', '/read', 200],
    [['ops:write'], 'GET', '/admin', 403],
    [['ops:admin'], 'POST', '/write', 200],
    [['ops:admin'], 'GET', '/agent', 403],
    [['agent'], 'GET', '/read', 403],
    [['agent'], 'GET', '/agent', 200],
    [[], 'GET', '/read', 403],
  ];
  for (const [held, method, url, status] of cases) {
    const res = await app.inject({ method: method as 'GET' | 'POST', url, headers: { authorization: await k.token('alice', held) } });
    assert.equal(res.statusCode, status, `${held.join(' ')} ${method} ${url}: ${res.body}`);
    if (status !== 403) continue;
    const required = url === '/write' ? 'ops:write' : url === '/admin' ? 'ops:admin' : url === '/agent' ? 'agent' : 'ops:read';
    assert.equal(res.headers['www-authenticate'], `Bearer realm="opsctl", error="insufficient_scope", error_description="the token lacks scope ${required}", scope="${required}"`);
    const body = res.json<{ error: { code: string; details: { required: string; held: string[] } } }>();
    assert.equal(body.error.code, 'OPS_ERR_AUTH_SCOPE');
    assert.deepEqual(body.error.details, { required, held });
  }
  assert.equal((await app.inject({ url: '/public' })).statusCode, 200, 'a public route needs no token');
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'routes outside the plugin are not affected');
});

test('requireScope guards a single route the same way', async (t) => {
  const k = await keys(t);
  const app = Fastify();
  t.after(() => app.close());
  app.get('/x', { onRequest: requireScope('ops:write', { verifier: k.verifier, realm: 'test' }) }, (req) => ({ sub: req.identity?.subject }));
  const missing = await app.inject({ url: '/x' });
  assert.equal(missing.statusCode, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="test"');
  assert.equal((await app.inject({ url: '/x', headers: { authorization: await k.token('bob', ['ops:read']) } })).statusCode, 403);
  const ok = await app.inject({ url: '/x', headers: { authorization: await k.token('bob', ['ops:write']) } });
  assert.deepEqual(ok.json(), { sub: 'bob' });
});

test('authPlugin refuses to register a route that declares no scope', async (t) => {
  const k = await keys(t);
  const app = Fastify();
  t.after(() => app.close());
  void app.register(async (api) => {
    await api.register(authPlugin, { verifier: k.verifier });
    api.get('/forgot', () => 'open');
  });
  await assert.rejects(async () => { await app.ready(); }, /route GET \/forgot: config.scope must be a scope or "public"/);
});

test('wwwAuthenticate keeps error_description a valid quoted-string', () => {
  const value = wwwAuthenticate('opsctl', { code: 'OPS_ERR_AUTH_INVALID', message: 'bad "kid" \\ ☃', details: {} });
  assert.equal(value, 'Bearer realm="opsctl", error="invalid_token", error_description="bad ?kid? ? ?"');
});

test('rate limits: a burst then 429 with Retry-After and RateLimit-* headers, per subject after auth, per IP before', async (t) => {
  const k = await keys(t);
  let now = 0;
  const limiter = new RateLimiter({ rate: 1, burst: 2, maxKeys: 100, now: () => now });
  const app = await testApp(t, { verifier: k.verifier, limiter });
  const alice = await k.token('alice', ['ops:read']);
  const get = (authorization: string | undefined, remoteAddress = '10.0.0.1') =>
    app.inject({ url: '/read', remoteAddress, headers: authorization === undefined ? {} : { authorization } });

  const first = await get(alice);
  assert.equal(first.statusCode, 200);
  assert.deepEqual([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining'], first.headers['ratelimit-reset']], ['2', '1', '1']);
  assert.equal(first.headers['retry-after'], undefined);
  assert.equal((await get(alice)).headers['ratelimit-remaining'], '0');
  const limited = await get(alice);
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.headers['retry-after'], '1');
  assert.equal(limited.headers['ratelimit-remaining'], '0');
  assert.equal(limited.json<{ error: { code: string } }>().error.code, 'OPS_ERR_RATE_LIMITED');

  assert.equal((await get(alice, '10.0.0.2')).statusCode, 429, 'the subject is limited wherever it calls from');
  assert.equal((await get(await k.token('bob', ['ops:read']))).statusCode, 200, 'another subject on the same IP has its own bucket');

  // Requests without a valid token count against the IP, not against any subject.
  assert.equal((await get(undefined, '10.0.0.3')).statusCode, 401);
  assert.equal((await get('Bearer forged.token.here', '10.0.0.3')).statusCode, 401);
  const ipLimited = await get(undefined, '10.0.0.3');
  assert.equal(ipLimited.statusCode, 429, 'failed auth used up the IP bucket');
  assert.ok(ipLimited.headers['retry-after']);
  assert.equal((await get(await k.token('carol', ['ops:read']), '10.0.0.3')).statusCode, 200, 'a valid token from that IP is charged to its subject');

  now += 1000;
  assert.equal((await get(alice)).statusCode, 200, 'one second refills one token');
  assert.equal((await get(alice)).statusCode, 429);
});
