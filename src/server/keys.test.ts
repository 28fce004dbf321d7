// Key files: what is refused at load (short secrets, open modes, JWKs without alg or with private parts) and how signing keys are matched.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { createVerifier, mintToken } from './auth.ts';
import { loadSigningKey, readJwksFile, readSecretFile } from './keys.ts';
import { authConfig, secretFile, tempDir, testJwks, writeKeyFile } from './testing.ts';

const refusal = (pattern: RegExp) => (err: unknown): boolean => isOpsError(err, 'OPS_ERR_AUTH_KEY') && pattern.test(err.message);

test('an HS256 secret shorter than 32 bytes is refused; a trailing newline is not part of it', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(readSecretFile(writeKeyFile(join(dir, 'short'), `${'x'.repeat(31)}\n`)), refusal(/31 bytes; at least 32/));
  assert.equal((await readSecretFile(writeKeyFile(join(dir, 'ok'), `${'x'.repeat(32)}\r\n`))).length, 32);
  await assert.rejects(readSecretFile(join(dir, 'absent')), refusal(/cannot read/));
});

test('a world-readable secret or private key is refused; group-readable passes for operator files', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(readSecretFile(secretFile(dir, 0o644)), refusal(/permissions 0644 are too open.*chmod 600/));
  assert.equal((await readSecretFile(secretFile(dir, 0o640))).length, 64);
  await assert.rejects(readSecretFile(secretFile(dir, 0o640), 0o077), refusal(/permissions 0640/));
  const jwks = testJwks(dir);
  writeKeyFile(jwks.es256.privateFile, jwks.es256.privateKey.export({ format: 'pem', type: 'pkcs8' }), 0o604);
  await assert.rejects(loadSigningKey(authConfig({ jwks_file: jwks.jwksFile, private_key_file: jwks.es256.privateFile })), refusal(/too open/));
});

test('a JWKS key without alg, without kid, with private material, an HS alg or a duplicate kid is refused at load', async (t) => {
  const dir = tempDir(t);
  const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const cases: Array<[string, unknown, RegExp]> = [
    ['no alg', { keys: [{ ...pub, kid: 'a' }] }, /no "alg": each key must pin its algorithm/],
    ['no kid', { keys: [{ ...pub, alg: 'ES256' }] }, /no "kid"/],
    ['private part', { keys: [{ ...priv, kid: 'a', alg: 'ES256' }] }, /private key material/],
    ['HS256 in a JWKS', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'a', alg: 'HS256' }] }, /HS256 is not accepted here/],
    ['alg none', { keys: [{ ...pub, kid: 'a', alg: 'none' }] }, /none is not accepted here/],
    ['alg of another key type', { keys: [{ ...pub, kid: 'a', alg: 'RS256' }] }, /not a usable RS256 public key/],
    ['duplicate kid', { keys: [{ ...pub, kid: 'a', alg: 'ES256' }, { ...pub, kid: 'a', alg: 'ES256' }] }, /the same "kid" appears twice/],
    ['use enc', { keys: [{ ...pub, kid: 'a', alg: 'ES256', use: 'enc' }] }, /"use" is "enc"/],
    ['empty', { keys: [] }, /at least one key/],
    ['not a JWKS', [pub], /expected a JWKS/],
  ];
  for (const [name, doc, pattern] of cases) {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(doc));
    await assert.rejects(readJwksFile(file), refusal(pattern), name);
  }
  writeFileSync(join(dir, 'bad.json'), '{ nope');
  await assert.rejects(createVerifier(authConfig({ jwks_file: join(dir, 'bad.json') })), refusal(/not JSON/));
  writeFileSync(join(dir, 'ok.json'), JSON.stringify({ keys: [{ ...pub, kid: 'a', alg: 'ES256' }] }));
  assert.equal((await readJwksFile(join(dir, 'ok.json'))).get('a')?.alg, 'ES256');
});

test('a private key not in the JWKS cannot sign; without a JWKS, alg follows the key type and kid the thumbprint', async (t) => {
  const dir = tempDir(t);
  const jwks = testJwks(dir);
  const stranger = writeKeyFile(join(dir, 'stranger.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await assert.rejects(loadSigningKey(authConfig({ jwks_file: jwks.jwksFile, private_key_file: stranger })), refusal(/in none of the keys/));
  await assert.rejects(loadSigningKey(authConfig({ jwks_file: jwks.jwksFile })), refusal(/cannot sign/));
  const lone = await loadSigningKey({ ...authConfig({}), private_key_file: jwks.eddsa.privateFile });
  assert.equal(lone.alg, 'EdDSA');
  assert.match(lone.kid ?? '', /^[A-Za-z0-9_-]{43}$/);
  const jwkFile = writeKeyFile(join(dir, 'key.jwk'), JSON.stringify({ ...jwks.rs256.privateKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256' }));
  const minted = await mintToken({ subject: 'a', scopes: ['ops:read'], ttl: 60_000 }, authConfig({ jwks_file: jwks.jwksFile, private_key_file: jwkFile }));
  assert.ok((await (await createVerifier(authConfig({ jwks_file: jwks.jwksFile }))).verify(`Bearer ${minted.token}`)).ok, 'a JWK private key signs too');
  writeKeyFile(join(dir, 'junk.pem'), 'not a key');
  await assert.rejects(loadSigningKey({ ...authConfig({}), private_key_file: join(dir, 'junk.pem') }), refusal(/not a private key in PEM or JWK form/));
});

test('the config schema: secret_file and jwks_file exclude each other, private_key_file needs jwks_file', () => {
  assert.throws(() => authConfig({ secret_file: 'a', jwks_file: 'b' }), /not both/);
  assert.throws(() => authConfig({ secret_file: 'a', private_key_file: 'b' }), /set jwks_file too/);
  assert.throws(() => authConfig({ secret_file: 'a', algorithm: 'HS256' }), /algorithm/);
  assert.throws(() => authConfig({ max_token_bytes: 100 }), /at least 1KiB/);
  const c = authConfig({});
  assert.equal(c.leeway, 30_000);
  assert.equal(c.max_token_bytes, 8192);
});
