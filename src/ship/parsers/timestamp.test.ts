import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoTime, compileTimeFormat, isoTime, type TimeParser } from './timestamp.ts';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const iso = (parse: TimeParser, value: unknown, at = now): string | undefined => {
  const ms = parse(value, at);
  return ms === undefined ? undefined : isoTime(ms);
};
const local = (...parts: [number, number, number, number, number, number, number?]): string =>
  new Date(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], parts[6] ?? 0).toISOString();

test('auto reads RFC 3339 / ISO 8601 with and without zones', () => {
  assert.equal(iso(autoTime, '2026-11-22T10:00:00Z'), '2026-11-22T10:00:00.000Z');
  assert.equal(iso(autoTime, '2026-11-22T10:00:00.123456+01:00'), '2026-11-22T09:00:00.123Z');
  assert.equal(iso(autoTime, '2026-11-22 10:00:00,5-0230'), '2026-11-22T12:30:00.500Z');
  assert.equal(iso(autoTime, '2026-11-22T10:00:00.1z'), '2026-11-22T10:00:00.100Z');
  assert.equal(iso(autoTime, '2026-11-22T10:00:00'), local(2026, 11, 22, 10, 0, 0), 'no zone is local time');
  assert.equal(iso(autoTime, '2026-02-30T10:00:00Z'), undefined, 'Feb 30 is rejected');
  assert.equal(iso(autoTime, '2024-02-29T10:00:00Z'), '2024-02-29T10:00:00.000Z');
  assert.equal(iso(autoTime, '2026-11-22T25:00:00Z'), undefined);
});

test('auto reads nginx/apache time_local', () => {
  assert.equal(iso(autoTime, '22/Nov/2026:10:00:00 +0100'), '2026-11-22T09:00:00.000Z');
  assert.equal(iso(autoTime, '01/Jan/2026:00:00:00 -0500'), '2026-01-01T05:00:00.000Z');
  assert.equal(iso(autoTime, '22/Foo/2026:10:00:00 +0100'), undefined);
});

test('auto reads syslog 3164 times in local time, inferring the year', () => {
  assert.equal(iso(autoTime, 'Nov 22 10:00:00'), local(2026, 11, 22, 10, 0, 0));
  assert.equal(iso(autoTime, 'Nov  2 03:04:05'), local(2026, 11, 2, 3, 4, 5));
  const newYear = new Date(2026, 0, 1, 0, 0, 10).getTime();
  assert.equal(iso(autoTime, 'Dec 31 23:59:50', newYear), local(2025, 12, 31, 23, 59, 50), 'a time in the future is last year');
  assert.equal(iso(autoTime, 'Jan  1 00:00:05', newYear), local(2026, 1, 1, 0, 0, 5));
});

test('auto reads unix seconds and milliseconds, as numbers or digit strings', () => {
  assert.equal(iso(autoTime, 1795341600), '2026-11-22T10:00:00.000Z');
  assert.equal(iso(autoTime, 1795341600.25), '2026-11-22T10:00:00.250Z');
  assert.equal(iso(autoTime, 1795341600123), '2026-11-22T10:00:00.123Z');
  assert.equal(iso(autoTime, '1795341600'), '2026-11-22T10:00:00.000Z');
  assert.equal(iso(autoTime, '1795341600123'), '2026-11-22T10:00:00.123Z');
  assert.equal(iso(autoTime, Infinity), undefined);
  assert.equal(iso(autoTime, 1e300), undefined);
});

test('auto rejects what it does not know', () => {
  for (const value of ['', 'yesterday', '10:00', '2026/11/22', null, undefined, {}, true, '1'.repeat(100)]) {
    assert.equal(iso(autoTime, value), undefined, JSON.stringify(value));
  }
});

test('strftime formats compile once and parse their shape', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['%Y-%m-%d %H:%M:%S,%f %z', '2026-11-22 10:00:00,123 +0000', '2026-11-22T10:00:00.123Z'],
    ['%d/%b/%Y:%H:%M:%S %z', '22/Nov/2026:10:00:00 +0100', '2026-11-22T09:00:00.000Z'],
    ['%y%m%d %T%z', '261122 10:00:00Z', '2026-11-22T10:00:00.000Z'],
    ['%b %e %H:%M:%S %Y %Z', 'Nov  2 10:00:00 2026 UTC', '2026-11-02T10:00:00.000Z'],
    ['%a %B %d %I:%M %p %Y %z', 'Sun November 22 01:30 PM 2026 -01:00', '2026-11-22T14:30:00.000Z'],
    ['%I:%M %p %F %z', '12:05 am 2026-11-22 +0000', '2026-11-22T00:05:00.000Z'],
    ['[%F %T.%f] %z', '[2026-11-22 10:00:00.5] +0000', '2026-11-22T10:00:00.500Z'],
    ['%s', '1795341600', '2026-11-22T10:00:00.000Z'],
    ['%Y-%m-%d %H:%M:%S %z', '2026-11-22T10:00:00 +0000', undefined],
    ['%Y-%m-%d %z', '2026-13-01 +0000', undefined],
    ['%b %d %Y %z', 'Foo 01 2026 +0000', undefined],
  ];
  for (const [format, value, expected] of cases) {
    const parse = compileTimeFormat(format);
    assert.notEqual(typeof parse, 'string', format);
    assert.equal(iso(parse as TimeParser, value), expected, `${format} on ${value}`);
  }
  const noZone = compileTimeFormat('%Y-%m-%d %H:%M:%S') as TimeParser;
  assert.equal(iso(noZone, '2026-11-22 10:00:00'), local(2026, 11, 22, 10, 0, 0));
  const noYear = compileTimeFormat('%m-%d %H:%M:%S') as TimeParser;
  assert.equal(iso(noYear, '11-22 10:00:00'), local(2026, 11, 22, 10, 0, 0));
});

test('strftime formats with unknown directives are reported', () => {
  assert.equal(compileTimeFormat('%Y-%Q'), 'unknown directive "%Q"');
  assert.equal(compileTimeFormat('%Y %'), 'format ends with a lone "%"');
  assert.equal(typeof compileTimeFormat('100%% at %H'), 'function');
});
