import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logfmt, parseLogfmt } from './logfmt.ts';

test('logfmt: pairs, quoted values with escapes, bare keys and empty values', () => {
  assert.deepEqual(parseLogfmt('at=info method=GET path="/a b" msg="say \\"hi\\"\\n\\u00e9" cached  empty= dur=1.5ms'), {
    at: 'info', method: 'GET', path: '/a b', msg: 'say "hi"\né', cached: true, empty: '', dur: '1.5ms',
  });
  assert.deepEqual(parseLogfmt('a="" b="x=y z"'), { a: '', b: 'x=y z' });
});

test('logfmt: msg/message become the message, level and time come out', () => {
  const parse = logfmt.create({});
  assert.deepEqual(parse('time=2026-11-22T10:00:00Z level=debug msg="cache miss" key=user:42'), {
    fields: { time: '2026-11-22T10:00:00Z', level: 'debug', key: 'user:42' }, message: 'cache miss', level: 'debug', timestamp: '2026-11-22T10:00:00Z',
  });
});

test('logfmt: failures', () => {
  assert.equal(parseLogfmt(''), 'no key=value pairs');
  assert.equal(parseLogfmt('   '), 'no key=value pairs');
  assert.equal(parseLogfmt('a="open'), 'unterminated quote');
  assert.equal(parseLogfmt('a="ends in backslash\\'), 'unterminated quote');
  assert.equal(parseLogfmt('=x'), 'expected a key');
  assert.equal(parseLogfmt('"quoted"=x'), 'expected a key');
  assert.equal(parseLogfmt('ke"y=x'), 'quote inside a key');
});

test('logfmt: a "__proto__" key is an ordinary field', () => {
  const fields = parseLogfmt('__proto__=x a=1') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(fields), Object.prototype);
  assert.deepEqual(Object.entries(fields), [['__proto__', 'x'], ['a', '1']]);
});
