import assert from 'node:assert/strict';
import { test } from 'node:test';
import { json } from './json.ts';

test('json: an object becomes the fields; message, level and time are found by convention', () => {
  const parse = json.create({});
  assert.deepEqual(parse('{"time":"2026-11-22T10:00:00Z","level":"WARNING","msg":"disk almost full","disk":{"free":0.02}}'), {
    fields: { time: '2026-11-22T10:00:00Z', level: 'WARNING', disk: { free: 0.02 } },
    message: 'disk almost full',
    level: 'warn',
    timestamp: '2026-11-22T10:00:00Z',
  });
  assert.deepEqual(parse('{"ts":1795341600,"severity":50,"message":{"not":"a string"}}'), {
    fields: { ts: 1795341600, severity: 50, message: { not: 'a string' } }, level: 'error', timestamp: 1795341600,
  });
  assert.deepEqual(parse('{}'), { fields: {} });
});

test('json: message_field and level_field choose the fields', () => {
  const parse = json.create({ messageField: 'text', levelField: 'lv' });
  assert.deepEqual(parse('{"text":"hi","msg":"stays","lv":"E","level":"info"}'), {
    fields: { msg: 'stays', lv: 'E', level: 'info' }, message: 'hi', level: 'error',
  });
});

test('json: anything but an object is a failure', () => {
  const parse = json.create({});
  assert.equal(parse('{"a":'), 'invalid JSON');
  assert.equal(parse('plain text'), 'invalid JSON');
  assert.equal(parse(''), 'invalid JSON');
  for (const line of ['[1,2]', '"text"', '42', 'null', 'true']) assert.equal(parse(line), 'not a JSON object', line);
});
