import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpsError } from '../../core/errors.ts';
import { validate } from '../../core/config.ts';
import { entry } from '../testing.ts';
import { fields } from './fields.ts';

function make(config: Record<string, unknown>) {
  return fields.create(validate(fields.schema, { type: 'fields', inputs: ['app'], ...config }));
}

test('fields copies, renames, adds with templates and removes, in that order', async () => {
  const t = make({
    copy: { 'fields.host': 'fields.origin.host', message: 'fields.original' },
    rename: { 'fields.msg': 'message', 'fields.sev': 'level' },
    add: { 'fields.env': 'prod', 'fields.where': '{{ fields.origin.host }}:{{source}}', 'fields.n': 3, 'fields.missing': '[{{ fields.nope }}]' },
    remove: ['fields.host', 'fields.secret.token'],
  });
  const input = entry('raw line', { fields: { host: 'web1', msg: 'parsed text', sev: 'WARN', secret: { token: 't', keep: 1 } } });
  const [out] = await t.process([input]);
  assert.deepEqual(out, {
    ...input, message: 'parsed text', level: 'warn',
    fields: { original: 'raw line', origin: { host: 'web1' }, secret: { keep: 1 }, env: 'prod', where: 'web1:/var/log/test.log', n: 3, missing: '[]' },
  });
});

test('fields never changes its input entries nor objects they share', async () => {
  const shared = { token: 't', keep: 1 };
  const a = entry('a', { fields: { secret: shared } });
  const b = entry('b', { fields: { secret: shared } });
  const before = structuredClone([a, b]);
  const t = make({ remove: ['fields.secret.token'], add: { 'fields.secret.added': { x: 1 } } });
  const out = await t.process([a, b]);
  assert.deepEqual([a, b], before);
  assert.deepEqual(out[0]?.fields, { secret: { keep: 1, added: { x: 1 } } });
  assert.notEqual(out[0]?.fields.secret, out[1]?.fields.secret);
  assert.notEqual((out[0]?.fields.secret as Record<string, unknown>).added, (out[1]?.fields.secret as Record<string, unknown>).added);
});

test('fields writes message and source as text and an unknown level as "unknown"', async () => {
  const t = make({ copy: { 'fields.obj': 'message' }, add: { level: 'loud', source: '{{ fields.n }}' } });
  const [out] = await t.process([entry('x', { level: 'info', fields: { obj: { a: 1 }, n: 7 } })]);
  assert.equal(out?.message, '{"a":1}');
  assert.equal(out?.level, 'unknown');
  assert.equal(out?.source, '7');
});

test('fields skips missing sources and writes through non-object values', async () => {
  const t = make({ rename: { 'fields.absent': 'fields.x' }, copy: { 'fields.nope': 'fields.y' }, add: { 'fields.s.t': 1 } });
  const [out] = await t.process([entry('x', { fields: { s: 'a string' } })]);
  assert.deepEqual(out?.fields, { s: { t: 1 } });
});

test('fields rejects paths it cannot write or remove, and bad templates', () => {
  for (const config of [
    { remove: ['message'] }, { rename: { message: 'fields.m' } }, { add: { id: 'x' } }, { add: { fields: { env: 'prod' } } },
    { copy: { 'fields.a': 'timestamp' } }, { add: { 'fields.a': '{{ nope }}' } }, { add: { 'fields..a': 1 } },
  ]) {
    assert.throws(() => make(config), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'), JSON.stringify(config));
  }
});
