import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpsError } from '../../core/errors.ts';
import { validate } from '../../core/config.ts';
import { entry, testContext } from '../testing.ts';
import { luhnValid, redact } from './redact.ts';

function make(config: Record<string, unknown>) {
  return redact.create(validate(redact.schema, { type: 'redact', inputs: ['app'], ...config }), testContext());
}

async function one(config: Record<string, unknown>, message: string): Promise<string> {
  const [out] = await make(config).process([entry(message)]);
  return out?.message ?? '';
}

test('redact presets', async () => {
  const cases: Array<[string, string, string]> = [
    ['bearer', 'Authorization: Bearer eyJhbGciOi.J9x-y_z== next', 'Authorization: Bearer [REDACTED] next'],
    ['email', 'mail from jane.doe+x@mail.example.co.uk failed', 'mail from [REDACTED] failed'],
    ['credit_card', 'card 4111 1111 1111 1111 and 4012-8888-8888-1881 ok', 'card [REDACTED] and [REDACTED] ok'],
    ['credit_card', 'order 1234567890123456 shipped', 'order 1234567890123456 shipped'],
    ['ipv4', 'from 10.0.0.1 and 192.168.255.254, not 999.1.1.1 nor v1.2.3.4.5', 'from [REDACTED] and [REDACTED], not 999.1.1.1 nor v1.2.3.4.5'],
    ['aws_key', 'key=AKIAIOSFODNN7EXAMPLE used', 'key=[REDACTED] used'],
    ['password', 'login user=bob password=hunter2 ok', 'login user=bob password=[REDACTED] ok'],
    ['password', '{"user":"bob","password":"s3cr\\"et","x":1}', '{"user":"bob","password":"[REDACTED]","x":1}'],
    ['password', "pwd: 'abc def' PASSWD = x1", "pwd: '[REDACTED]' PASSWD = [REDACTED]"],
  ];
  for (const [preset, input, expected] of cases) assert.equal(await one({ presets: [preset] }, input), expected, `${preset}: ${input}`);
});

test('luhn check', () => {
  assert.ok(luhnValid('4111111111111111'));
  assert.ok(luhnValid('378282246310005'));
  assert.ok(!luhnValid('4111111111111112'));
  assert.ok(!luhnValid('123'));
});

test('redact patterns, replacement, and strings under fields recursively by default', async () => {
  const t = make({ patterns: ['session=[0-9a-f]{8}', '(?i:secret)'], replacement: '***' });
  const input = entry('login session=deadbeef', { fields: { nested: { list: ['a SECRET', 5, null], ok: 'fine' }, n: 1 } });
  const before = structuredClone(input);
  const [out] = await t.process([input]);
  assert.equal(out?.message, 'login ***');
  assert.deepEqual(out?.fields, { nested: { list: ['a ***', 5, null], ok: 'fine' }, n: 1 });
  assert.deepEqual(input, before);
});

test('redact only the chosen paths', async () => {
  const t = make({ presets: ['email'], fields: ['fields.user'] });
  const [out] = await t.process([entry('a@b.io', { fields: { user: { mail: 'c@d.io' }, other: 'e@f.io' } })]);
  assert.equal(out?.message, 'a@b.io');
  assert.deepEqual(out?.fields, { user: { mail: '[REDACTED]' }, other: 'e@f.io' });
});

test('redact leaves entries without matches as they are', async () => {
  const input = entry('nothing here', { fields: { a: 'b' } });
  const [out] = await make({ presets: ['email', 'ipv4'] }).process([input]);
  assert.equal(out, input);
});

test('an invalid pattern, an unknown preset or no rules at all is a config error', () => {
  for (const config of [{ patterns: ['('] }, { presets: ['ssn'] }, {}, { presets: ['email'], fields: ['id'] }]) {
    assert.throws(() => make(config), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'), JSON.stringify(config));
  }
});
