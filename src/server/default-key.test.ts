// The embedded default key: created 0600 on first start, reused, refused when others may read it.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { createVerifier, mintToken } from './auth.ts';
import { defaultSecretName, ensureDefaultKey } from './default-key.ts';
import { authConfig, secretFile, tempDir } from './testing.ts';

test('ensureDefaultKey creates a 0600 secret under data_dir, then reuses it', async (t) => {
  const dataDir = join(tempDir(t), 'data', 'server');
  const config = await ensureDefaultKey(dataDir);
  const file = join(dataDir, defaultSecretName);
  assert.equal(config.secret_file, file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const secret = readFileSync(file, 'utf8');
  assert.match(secret, /^[A-Za-z0-9_-]{64}\n$/);
  const again = await ensureDefaultKey(dataDir);
  assert.equal(again.secret_file, file);
  assert.equal(readFileSync(file, 'utf8'), secret, 'the second start reuses the secret');
  const minted = await mintToken({ subject: 'a', scopes: ['ops:admin'], ttl: 60_000 }, config);
  assert.ok((await (await createVerifier(again)).verify(`Bearer ${minted.token}`)).ok);
});

test('ensureDefaultKey refuses a default secret that group or others may read, as ssh does', async (t) => {
  const dataDir = tempDir(t);
  await ensureDefaultKey(dataDir);
  const file = join(dataDir, defaultSecretName);
  for (const mode of [0o644, 0o640, 0o604]) {
    chmodSync(file, mode);
    await assert.rejects(ensureDefaultKey(dataDir), (err) => isOpsError(err, 'OPS_ERR_AUTH_KEY') && err.message.includes(`permissions 0${mode.toString(8)} are too open`), mode.toString(8));
  }
  chmodSync(file, 0o400);
  assert.equal((await ensureDefaultKey(dataDir)).secret_file, file);
});

test('ensureDefaultKey leaves a configured key alone, and with create: false says what to do', async (t) => {
  const dir = tempDir(t);
  const configured = authConfig({ secret_file: secretFile(dir) });
  assert.equal(await ensureDefaultKey(join(dir, 'unused'), configured), configured);
  await assert.rejects(ensureDefaultKey(join(dir, 'empty'), authConfig({}), { create: false }),
    (err) => isOpsError(err, 'OPS_ERR_AUTH_KEY') && /no default secret at .*start opsctl server once/.test(err.message));
});
