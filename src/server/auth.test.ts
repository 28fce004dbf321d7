// The verifier against the JWT attack corpus (every one a 401, none a 500) and the keys it must accept.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { CompactSign, SignJWT } from 'jose';
import { createVerifier, mintToken, type Verifier } from './auth.ts';
import { authConfig, secretFile, tempDir, testApp, testJwks, type TestJwks } from './testing.ts';

const issuer = 'opsctl-test';
const audience = 'opsctl-api';
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Setup { jwks: TestJwks; secret: Uint8Array; secretFile: string; jwksVerifier: Verifier; secretVerifier: Verifier }

async function setup(t: TestContext): Promise<Setup> {
  const dir = tempDir(t);
  const jwks = testJwks(dir);
  const file = secretFile(dir);
  const secret = new Uint8Array(readFileSync(file).subarray(0, -1));
  return {
    jwks, secret, secretFile: file,
    jwksVerifier: await createVerifier(authConfig({ jwks_file: jwks.jwksFile, issuer, audience })),
    secretVerifier: await createVerifier(authConfig({ secret_file: file, issuer, audience })),
  };
}

/** A token signed by `key` with the given header and claims (defaults: valid for an hour, iss/aud right, ops:read). */
async function sign(key: Parameters<SignJWT['sign']>[0], header: { alg: string; kid?: string }, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'mallory', scope: 'ops:read', iss: issuer, aud: audience, iat: now(), exp: now() + 3600, ...claims }).setProtectedHeader(header).sign(key);
}

test('the attack corpus: every token is refused with 401 and a coded RFC 6750 answer, none with a 500', async (t) => {
  const s = await setup(t);
  const { rs256, es256 } = s.jwks;
  const good = await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid });
  const [goodHeader, , goodSig] = good.split('.');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const payloadNotJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'RS256', kid: rs256.kid }).sign(rs256.privateKey);
  const corpus: Array<[string, string | undefined, string, Verifier?]> = [
    ['no Authorization header', undefined, 'OPS_ERR_AUTH_MISSING'],
    ['another scheme (Basic x)', 'Basic x', 'OPS_ERR_AUTH_MISSING'],
    ['Bearer with no token', 'Bearer', 'OPS_ERR_AUTH_MALFORMED'],
    ['Bearer ...', 'Bearer ...', 'OPS_ERR_AUTH_MALFORMED'],
    ['Bearer with two tokens', `Bearer ${good} ${good}`, 'OPS_ERR_AUTH_MALFORMED'],
    ['four parts (three dots)', 'Bearer a.b.c.d', 'OPS_ERR_AUTH_MALFORMED'],
    ['not base64url', 'Bearer !!!.@@@.###', 'OPS_ERR_AUTH_MALFORMED'],
    ['base64url that is not JSON', 'Bearer aaaa.bbbb.cccc', 'OPS_ERR_AUTH_MALFORMED'],
    ['a signed payload that is not JSON', `Bearer ${payloadNotJson}`, 'OPS_ERR_AUTH_MALFORMED'],
    ['alg none, empty signature', `Bearer ${b64({ alg: 'none' })}.${b64({ sub: 'mallory', exp: now() + 3600 })}.`, 'OPS_ERR_AUTH_MALFORMED'],
    ['alg none, some signature', `Bearer ${b64({ alg: 'none', kid: rs256.kid })}.${b64({ sub: 'mallory', exp: now() + 3600 })}.c2ln`, 'OPS_ERR_AUTH_INVALID'],
    ['HS256 signed with the RSA public key (PEM) as the secret', `Bearer ${await sign(new TextEncoder().encode(rs256.publicPem), { alg: 'HS256', kid: rs256.kid })}`, 'OPS_ERR_AUTH_INVALID'],
    ['HS256 with the RSA public key, no kid', `Bearer ${await sign(new TextEncoder().encode(rs256.publicPem), { alg: 'HS256' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['ES256 token naming the RS256 key', `Bearer ${await sign(es256.privateKey, { alg: 'ES256', kid: rs256.kid })}`, 'OPS_ERR_AUTH_INVALID'],
    ['expired', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { iat: now() - 7200, exp: now() - 3600 })}`, 'OPS_ERR_AUTH_EXPIRED'],
    ['nbf beyond the leeway', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { nbf: now() + 600 })}`, 'OPS_ERR_AUTH_INVALID'],
    ['iat beyond the leeway', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { iat: now() + 600 })}`, 'OPS_ERR_AUTH_INVALID'],
    ['wrong aud', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { aud: 'another-api' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['no aud', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { aud: undefined })}`, 'OPS_ERR_AUTH_INVALID'],
    ['wrong iss', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { iss: 'someone-else' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['no exp', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { exp: undefined })}`, 'OPS_ERR_AUTH_INVALID'],
    ['exp not a number', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { exp: 'tomorrow' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['no sub', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { sub: undefined })}`, 'OPS_ERR_AUTH_INVALID'],
    ['scope of the wrong type', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { scope: ['ops:admin'] })}`, 'OPS_ERR_AUTH_INVALID'],
    ['tampered payload (the signature of another payload)', `Bearer ${goodHeader}.${b64({ sub: 'mallory', scope: 'ops:admin', iss: issuer, aud: audience, exp: now() + 3600 })}.${goodSig}`, 'OPS_ERR_AUTH_INVALID'],
    ['unknown kid', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: 'rsa-2' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['no kid with several keys (signed by the first one)', `Bearer ${await sign(es256.privateKey, { alg: 'ES256' })}`, 'OPS_ERR_AUTH_INVALID'],
    ['a valid signature from another key, same kid', `Bearer ${await sign(other, { alg: 'ES256', kid: es256.kid })}`, 'OPS_ERR_AUTH_INVALID'],
    ['a 64 KB token', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { pad: 'x'.repeat(64 * 1024) })}`, 'OPS_ERR_AUTH_MALFORMED'],
    ['a 9 KB token, over max_token_bytes', `Bearer ${await sign(rs256.privateKey, { alg: 'RS256', kid: rs256.kid }, { pad: 'x'.repeat(9 * 1024) })}`, 'OPS_ERR_AUTH_MALFORMED'],
    ['HS256 signed with another secret', `Bearer ${await sign(randomBytes(48), { alg: 'HS256' })}`, 'OPS_ERR_AUTH_INVALID', s.secretVerifier],
    ['HS512 with the right secret', `Bearer ${await sign(s.secret, { alg: 'HS512' })}`, 'OPS_ERR_AUTH_INVALID', s.secretVerifier],
    ['RS256 against the HS256 secret', `Bearer ${good}`, 'OPS_ERR_AUTH_INVALID', s.secretVerifier],
  ];
  const jwksApp = await testApp(t, { verifier: s.jwksVerifier });
  const secretApp = await testApp(t, { verifier: s.secretVerifier });
  // The corpus must fail for what it tests, not because the setup is broken: the same keys and claims verify.
  assert.equal((await jwksApp.inject({ url: '/read', headers: { authorization: `Bearer ${good}` } })).statusCode, 200);
  assert.equal((await secretApp.inject({ url: '/read', headers: { authorization: `Bearer ${await sign(s.secret, { alg: 'HS256' })}` } })).statusCode, 200);
  for (const [name, authorization, code, verifier] of corpus) {
    const app = verifier === s.secretVerifier ? secretApp : jwksApp;
    const res = await app.inject({ url: '/read', headers: authorization === undefined ? {} : { authorization } });
    assert.equal(res.statusCode, 401, `${name}: ${res.body.slice(0, 300)}`);
    const body = res.json<{ error: { code: string; message: string; details: object } }>();
    assert.equal(body.error.code, code, `${name}: ${body.error.message}`);
    assert.equal(typeof body.error.message, 'string');
    const www = String(res.headers['www-authenticate']);
    if (code === 'OPS_ERR_AUTH_MISSING') assert.equal(www, 'Bearer realm="opsctl"', name);
    else assert.match(www, /^Bearer realm="opsctl", error="invalid_token", error_description="[^"\\]+"$/, `${name}: ${www}`);
  }
});

test('unicode in the header is refused without a 500, in the verifier and over a real socket', async (t) => {
  const s = await setup(t);
  for (const header of ['Bearer ünïcødé.☃.✓', 'Bearer \u0000.\u0000.\u0000', 'Bearer 𝔞.𝔟.𝔠', 'Bëarer x.y.z']) {
    const r = await s.jwksVerifier.verify(header);
    assert.equal(r.ok, false, header);
  }
  const app = await testApp(t, { verifier: s.jwksVerifier });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const status = (headers: Record<string, string>): Promise<number> => new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/read', headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
  });
  // Latin-1 bytes pass Node's header check and reach the verifier.
  assert.equal(await status({ authorization: 'Bearer \u00e9\u00e9.\u00e9.\u00e9' }), 401);
  // 64 KB exceeds Node's header limit: Node itself answers 431, fastify never sees it.
  assert.equal(await status({ authorization: `Bearer ${'a'.repeat(64 * 1024)}` }), 431);
});

test('HS256 secret, ES256, RS256 and EdDSA tokens verify, with subject, scopes and expiry', async (t) => {
  const s = await setup(t);
  const app = await testApp(t, { verifier: s.jwksVerifier });
  for (const key of [s.jwks.es256, s.jwks.rs256, s.jwks.eddsa]) {
    const minted = await mintToken({ subject: `svc-${key.alg}`, scopes: ['ops:write'], ttl: 3_600_000 }, authConfig({ jwks_file: s.jwks.jwksFile, private_key_file: key.privateFile, issuer, audience }));
    const header = JSON.parse(Buffer.from(minted.token.split('.')[0] ?? '', 'base64url').toString()) as { alg: string; kid: string };
    assert.deepEqual([header.alg, header.kid], [key.alg, key.kid], 'kid and alg come from the matching JWKS entry');
    const res = await app.inject({ method: 'POST', url: '/write', headers: { authorization: `Bearer ${minted.token}` } });
    assert.equal(res.statusCode, 200, `${key.alg}: ${res.body}`);
    const { identity } = res.json<{ identity: { subject: string; scopes: string[]; expiresAt: string } }>();
    assert.equal(identity.subject, `svc-${key.alg}`);
    assert.deepEqual(identity.scopes, ['ops:write']);
    assert.equal(identity.expiresAt, minted.expiresAt.toISOString());
  }
  const hs = await mintToken({ subject: 'alice', scopes: ['ops:read', 'agent'], ttl: 60_000 }, authConfig({ secret_file: s.secretFile, issuer, audience }));
  const r = await s.secretVerifier.verify(`bearer ${hs.token}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.identity.scopes, ['ops:read', 'agent']);
  assert.equal(r.identity.claims.jti, hs.id);
  assert.equal(r.identity.claims.nbf, r.identity.claims.iat);
});

test('scp arrays and unknown scopes: merged with scope, unknown ones ignored', async (t) => {
  const s = await setup(t);
  const token = await sign(s.secret, { alg: 'HS256' }, { scope: 'ops:read future:scope', scp: ['agent', 'ops:read'] });
  const r = await s.secretVerifier.verify(`Bearer ${token}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.identity.scopes, ['ops:read', 'agent']);
});

test('the leeway applies to exp, nbf and iat, and no further', async (t) => {
  const s = await setup(t);
  const t0 = new Date('2030-01-01T00:00:00Z');
  const at = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);
  const config = authConfig({ secret_file: s.secretFile, leeway: '30s' });
  const verifyAt = async (token: string, seconds: number): Promise<string> => {
    const r = await (await createVerifier(config, { now: () => at(seconds) })).verify(`Bearer ${token}`);
    return r.ok ? 'ok' : r.failure.code;
  };
  const expiring = (await mintToken({ subject: 'a', scopes: [], ttl: 60_000, now: t0 }, config)).token;
  assert.equal(await verifyAt(expiring, 60 + 20), 'ok', 'expired 20s ago, within 30s');
  assert.equal(await verifyAt(expiring, 60 + 40), 'OPS_ERR_AUTH_EXPIRED', 'expired 40s ago');
  const future = (await mintToken({ subject: 'a', scopes: [], ttl: 600_000, now: at(20) }, config)).token;
  assert.equal(await verifyAt(future, 0), 'ok', 'nbf and iat 20s ahead, within 30s');
  const farFuture = (await mintToken({ subject: 'a', scopes: [], ttl: 600_000, now: at(40) }, config)).token;
  assert.equal(await verifyAt(farFuture, 0), 'OPS_ERR_AUTH_INVALID', 'nbf 40s ahead');
  const strict = await createVerifier(authConfig({ secret_file: s.secretFile, leeway: '0s' }), { now: () => at(61) });
  assert.equal((await strict.verify(`Bearer ${expiring}`)).ok, false, 'no leeway: expired 1s ago');
});
