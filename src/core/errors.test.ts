import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OpsError, errnoCode, errorCodes, isOpsError } from './errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^## (OPS_ERR_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

test('every error code is documented in docs/errors.md', () => {
  const missing = Object.keys(errorCodes).filter((c) => !documented.has(c));
  assert.deepEqual(missing, [], `add a "## CODE" section to docs/errors.md for: ${missing.join(', ')}`);
});

test('docs/errors.md documents no code that does not exist', () => {
  const stale = [...documented].filter((c) => c !== undefined && !Object.hasOwn(errorCodes, c));
  assert.deepEqual(stale, []);
});

test('OpsError carries code, details, cause and exit code', () => {
  const cause = new Error('inner');
  const err = new OpsError('OPS_ERR_CONFIG_INVALID', 'bad', { details: { line: 3 }, cause });
  assert.equal(err.code, 'OPS_ERR_CONFIG_INVALID');
  assert.equal(err.exitCode, 78);
  assert.equal(err.details.line, 3);
  assert.equal(err.cause, cause);
  assert.ok(isOpsError(err));
  assert.ok(isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
  assert.ok(!isOpsError(err, 'OPS_ERR_USAGE'));
  assert.ok(!isOpsError(new Error('x')));
  assert.equal(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
  assert.equal(errnoCode('ENOENT'), undefined);
});
