import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, regex } from './regex.ts';

test('regex: named groups become fields, unmatched ones are left out', () => {
  const pattern = compilePattern('^(?<time>\\S+) \\[(?<level>\\w+)\\](?: (?<module>\\w+):)? (?<msg>.*)$');
  assert.ok(pattern instanceof RegExp);
  const parse = regex.create({ pattern });
  assert.deepEqual(parse('2026-11-22T10:00:00Z [ERROR] db: connection refused'), {
    fields: { time: '2026-11-22T10:00:00Z', level: 'ERROR', module: 'db' }, message: 'connection refused', level: 'error', timestamp: '2026-11-22T10:00:00Z',
  });
  assert.deepEqual(parse('2026-11-22T10:00:00Z [info] ready'), {
    fields: { time: '2026-11-22T10:00:00Z', level: 'info' }, message: 'ready', level: 'info', timestamp: '2026-11-22T10:00:00Z',
  });
  assert.equal(parse('no match here'), 'no match');
});

test('regex: invalid patterns and patterns without named groups are refused', () => {
  assert.match(compilePattern('(?<a>x') as string, /^invalid regular expression/);
  assert.match(compilePattern('(\\d+) (\\w+)') as string, /needs at least one named group/);
  assert.ok(compilePattern('a|(?<b>c)') instanceof RegExp);
});
