import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { formatSelector, matches, parseSelector } from './selector.ts';

test('selector: equality-based requirements', () => {
  assert.deepEqual(parseSelector('role=web,env!=dev, tier == front'), [
    { key: 'role', op: 'eq', value: 'web' },
    { key: 'env', op: 'neq', value: 'dev' },
    { key: 'tier', op: 'eq', value: 'front' },
  ]);
  const s = parseSelector('role=web,env!=dev');
  assert.ok(matches(s, { role: 'web', env: 'prod' }));
  assert.ok(matches(s, { role: 'web' }), '!= holds when the label is absent (as Kubernetes)');
  assert.ok(!matches(s, { role: 'web', env: 'dev' }));
  assert.ok(!matches(s, { role: 'db' }));
  assert.ok(!matches(s, {}));
});

test('selector: set-based requirements, existence and absence', () => {
  assert.deepEqual(parseSelector('zone in (a, b),tier notin (x),gpu,!canary'), [
    { key: 'zone', op: 'in', values: ['a', 'b'] },
    { key: 'tier', op: 'notin', values: ['x'] },
    { key: 'gpu', op: 'exists' },
    { key: 'canary', op: 'notexists' },
  ]);
  const s = parseSelector('zone in (a,b),tier notin (x),gpu,!canary');
  assert.ok(matches(s, { zone: 'a', gpu: '' }));
  assert.ok(matches(s, { zone: 'b', tier: 'y', gpu: 'true' }));
  assert.ok(!matches(s, { zone: 'c', gpu: '' }), 'zone not in the set');
  assert.ok(!matches(s, { gpu: '' }), 'in needs the label');
  assert.ok(!matches(s, { zone: 'a', tier: 'x', gpu: '' }), 'notin');
  assert.ok(!matches(s, { zone: 'a' }), 'gpu must exist');
  assert.ok(!matches(s, { zone: 'a', gpu: '', canary: 'yes' }), 'canary must be absent');
});

test('selector: the empty selector matches everything; empty values; prefixed keys; no prototype keys', () => {
  assert.deepEqual(parseSelector(''), []);
  assert.deepEqual(parseSelector('  '), []);
  assert.ok(matches(parseSelector(''), {}));
  assert.ok(matches(parseSelector('x='), { x: '' }));
  assert.ok(!matches(parseSelector('x='), { x: 'y' }));
  assert.ok(matches(parseSelector('example.com/team=ops'), { 'example.com/team': 'ops' }));
  assert.ok(!matches(parseSelector('constructor'), {}), 'only own labels count');
  assert.ok(matches(parseSelector('!toString'), {}));
});

test('selector: format round-trips', () => {
  for (const text of ['role=web,env!=dev', 'zone in (a,b),tier notin (x),gpu,!canary', 'x=']) {
    assert.deepEqual(parseSelector(formatSelector(parseSelector(text))), parseSelector(text));
  }
});

test('selector: syntax errors are OPS_ERR_SELECTOR with the position', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['role=web,', 9, /expected a label key, got the end/],
    ['role=web,,env=x', 9, /expected a label key, got ","/],
    ['role=(web)', 5, /expected a label value, got "\("/],
    ['zone in a', 8, /expected "\(", got "a"/],
    ['zone in (a b)', 11, /expected "," or "\)", got "b"/],
    ['zone in (a', 10, /expected "," or "\)", got the end/],
    ['zone in ()', 9, /expected a label value, got "\)"/],
    ['role web', 5, /expected "=", "==", "!=", "in", "notin", "," or the end after "role", got "web"/],
    ['role=web env=x', 9, /expected "," or the end, got "env"/],
    ['role>3', 4, /unexpected character ">"/],
    ['-bad=x', 0, /"-bad" is not a valid label key/],
    ['role=-x', 5, /"-x" is not a valid label value/],
    ['!', 1, /expected a label key, got the end/],
  ];
  for (const [text, position, message] of cases) {
    assert.throws(() => parseSelector(text), (err) => {
      assert.ok(isOpsError(err, 'OPS_ERR_SELECTOR'), `${text}: ${String(err)}`);
      assert.equal(err.details.position, position, `${text}: ${err.message}`);
      assert.match(err.message, message, text);
      assert.ok(err.message.includes(`\n  ${text}\n  ${' '.repeat(position)}^`), `${text}: caret under the position:\n${err.message}`);
      return true;
    });
  }
});
