// End to end: `opsctl server token create` mints tokens the server's verifier accepts; bad flags exit 64, no key 78.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createVerifier } from '../src/server/auth.ts';
import { loadServerConfig } from '../src/server/config.ts';
import { ensureDefaultKey } from '../src/server/default-key.ts';
import { authConfig, secretFile, tempDir, testJwks } from '../src/server/testing.ts';
import { runCli } from './helpers/cli.ts';

test('token create with a secret file prints a token the verifier accepts; --json describes it', async (t) => {
  const secret = secretFile(tempDir(t));
  const plain = await runCli(['server', 'token', 'create', '--sub', 'alice', '--scope', 'ops:read,ops:write', '--ttl', '24h', '--secret-file', secret]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const verifier = await createVerifier(authConfig({ secret_file: secret }));
  const r = await verifier.verify(`Bearer ${plain.stdout.trim()}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity.subject, 'alice');
  assert.deepEqual(r.identity.scopes, ['ops:read', 'ops:write']);
  assert.equal(Number(r.identity.claims.exp) - Number(r.identity.claims.iat), 24 * 3600);

  const json = await runCli(['server', 'token', 'create', '--sub', 'ci', '--scope', 'agent', '--ttl', '15m', '--secret-file', secret, '--issuer', 'me', '--audience', 'api', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { token: string; subject: string; scopes: string[]; expires_at: string; id: string };
  assert.equal(out.subject, 'ci');
  assert.deepEqual(out.scopes, ['agent']);
  const strict = await createVerifier(authConfig({ secret_file: secret, issuer: 'me', audience: 'api' }));
  const v = await strict.verify(`Bearer ${out.token}`);
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.identity.expiresAt.toISOString(), out.expires_at);
  assert.equal(v.identity.claims.jti, out.id);
});

test('token create --config reads [server.auth] (paths relative to the file) and ignores other sections', async (t) => {
  const dir = tempDir(t);
  const jwks = testJwks(dir);
  const file = join(dir, 'opsctl.toml');
  writeFileSync(file, `
[probe]
enabled = false
[some_future_section]
anything = 1
[server]
listen = ":9300"   # a key of the full server schema, not of this one
[server.auth]
jwks_file = "jwks.json"
private_key_file = "${jwks.eddsa.kid}.pem"
issuer = "opsctl"
audience = "opsctl-api"
`);
  const res = await runCli(['server', 'token', 'create', '--config', file, '--sub', 'bob', '--scope', 'ops:admin']);
  assert.equal(res.code, 0, res.stderr);
  const verifier = await createVerifier(loadServerConfig(file).auth);
  const r = await verifier.verify(`Bearer ${res.stdout.trim()}`);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.identity.claims.iss, 'opsctl');
  assert.equal(r.identity.claims.aud, 'opsctl-api');
});

test('token create --config without a key uses the default secret under data_dir', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'opsctl.toml');
  writeFileSync(file, '[server]\ndata_dir = "data"\n');
  const before = await runCli(['server', 'token', 'create', '--config', file, '--sub', 'a', '--scope', 'ops:read']);
  assert.equal(before.code, 78, 'no default secret yet: token create does not create one');
  assert.match(before.stderr, /OPS_ERR_AUTH_KEY: no token key configured and no default secret at .*data\/jwt-hs256.secret/);
  const auth = await ensureDefaultKey(join(dir, 'data'));
  const res = await runCli(['server', 'token', 'create', '--config', file, '--sub', 'a', '--scope', 'ops:read']);
  assert.equal(res.code, 0, res.stderr);
  assert.ok((await (await createVerifier(auth)).verify(`Bearer ${res.stdout.trim()}`)).ok);
});

test('token create: bad flags exit 64, a missing or unusable key exits 78 with a coded error', async (t) => {
  const dir = tempDir(t);
  const secret = secretFile(dir);
  const base = ['server', 'token', 'create'];
  const usage: string[][] = [
    [...base, '--scope', 'ops:read', '--secret-file', secret],
    [...base, '--sub', 'a', '--secret-file', secret],
    [...base, '--sub', 'a', '--scope', 'ops:root', '--secret-file', secret],
    [...base, '--sub', 'a', '--scope', 'ops:read', '--ttl', 'forever', '--secret-file', secret],
    [...base, '--sub', 'a', '--scope', 'ops:read', '--ttl', '500ms', '--secret-file', secret],
    [...base, '--sub', '', '--scope', 'ops:read', '--secret-file', secret],
    [...base, '--sub', 'a', '--scope', 'ops:read', '--secret-file', secret, '--private-key-file', secret],
    [...base, '--sub', 'a', '--scope', 'ops:read', '--bogus'],
  ];
  for (const args of usage) assert.equal((await runCli(args)).code, 64, args.join(' '));

  const missing = await runCli([...base, '--sub', 'a', '--scope', 'ops:read', '--secret-file', join(dir, 'absent')], { env: { OPSCTL_SERVER__DATA_DIR: dir } });
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /^opsctl: OPS_ERR_AUTH_KEY: .*absent: cannot read/m);
  const noKey = await runCli([...base, '--sub', 'a', '--scope', 'ops:read'], { env: { OPSCTL_SERVER__DATA_DIR: join(dir, 'empty') } });
  assert.equal(noKey.code, 78);
  assert.match(noKey.stderr, /OPS_ERR_AUTH_KEY: no token key configured/);
  writeFileSync(join(dir, 'short'), 'too short');
  const short = await runCli([...base, '--sub', 'a', '--scope', 'ops:read', '--secret-file', join(dir, 'short')]);
  assert.equal(short.code, 78, short.stderr);
  const badConfig = join(dir, 'bad.toml');
  writeFileSync(badConfig, '[server.auth]\nsecret_file = "s"\nalgorithm = "HS256"\n');
  const invalid = await runCli([...base, '--sub', 'a', '--scope', 'ops:read', '--config', badConfig]);
  assert.equal(invalid.code, 78);
  assert.match(invalid.stderr, /OPS_ERR_CONFIG_INVALID: .*bad.toml:3: key "server.auth.algorithm": unknown key/);
});
