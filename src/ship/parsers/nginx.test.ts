import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nginx } from './nginx.ts';
import type { Parsed } from './types.ts';

const parse = nginx.create({});
const ok = (line: string): Parsed => {
  const result = parse(line);
  if (typeof result === 'string') assert.fail(`${line}: ${result}`);
  return result;
};

test('nginx combined lines become fields, with the time and a level from the status', () => {
  const line = '203.0.113.7 - - [22/Nov/2026:10:00:00 +0000] "GET /api/v1/users?id=42 HTTP/1.1" 200 512 "https://example.com/start" ' +
    '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"';
  assert.deepEqual(ok(line), {
    fields: {
      remote_addr: '203.0.113.7', time_local: '22/Nov/2026:10:00:00 +0000', request: 'GET /api/v1/users?id=42 HTTP/1.1',
      method: 'GET', path: '/api/v1/users?id=42', protocol: 'HTTP/1.1', status: 200, body_bytes_sent: 512,
      http_referer: 'https://example.com/start',
      http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    },
    timestamp: '22/Nov/2026:10:00:00 +0000',
    level: 'info',
  });
});

test('nginx: IPv6 address, a user, escaped quotes and UTF-8 in the agent, an empty referer', () => {
  const parsed = ok('2001:db8::85a3:8a2e:370:7334 - alice [22/Nov/2026:10:00:01 +0100] "POST /login HTTP/2.0" 503 0 "" ' +
    '"curl/8.5.0 \\x22quoted\\x22 caf\\xC3\\xA9"');
  assert.equal(parsed.fields.remote_addr, '2001:db8::85a3:8a2e:370:7334');
  assert.equal(parsed.fields.remote_user, 'alice');
  assert.equal(parsed.fields.http_user_agent, 'curl/8.5.0 "quoted" café');
  assert.equal('http_referer' in parsed.fields, false, 'an empty referer is left out');
  assert.equal(parsed.level, 'error');
});

test('nginx: "-" values are left out and scanner garbage keeps the line', () => {
  const tls = ok('198.51.100.9 - - [22/Nov/2026:10:00:02 +0000] "\\x16\\x03\\x01\\x00\\xA5\\x01" 400 157 "-" "-"');
  assert.deepEqual(tls.fields, { remote_addr: '198.51.100.9', time_local: '22/Nov/2026:10:00:02 +0000', request: '\x16\x03\x01\x00\uFFFD\x01', status: 400, body_bytes_sent: 157 });
  assert.equal(tls.level, 'warn');
  const empty = ok('198.51.100.9 - - [22/Nov/2026:10:00:02 +0000] "" 400 0 "-" "-"');
  assert.equal(empty.fields.request, '');
  assert.equal('method' in empty.fields, false);
  const http09 = ok('198.51.100.9 - - [22/Nov/2026:10:00:02 +0000] "GET /" 200 10 "-" "-"');
  assert.deepEqual([http09.fields.method, http09.fields.path, http09.fields.protocol], ['GET', '/', undefined]);
  const odd = ok('198.51.100.9 - - [22/Nov/2026:10:00:02 +0000] "get /x HTTP/1.1" 404 10 "-" "-"');
  assert.equal('method' in odd.fields, false, 'a method must be upper case letters');
  const spaced = ok('198.51.100.9 - - [22/Nov/2026:10:00:02 +0000] "GET /a b HTTP/1.1" 404 10 "-" "-"');
  assert.equal(spaced.fields.path, '/a b');
});

test('nginx: lines that are not combined are failures with a reason', () => {
  for (const line of ['', 'hello world', '1.2.3.4 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" abc 1 "-" "-"',
    '1.2.3.4 - - 22/Nov/2026:10:00:00 "GET / HTTP/1.1" 200 1 "-" "-"', '{"remote_addr":"1.2.3.4"}']) {
    assert.equal(parse(line), 'not an nginx combined line', line);
  }
});

test('the scanner agrees with a reference regex of the format on near-miss lines', async () => {
  const { default: fc } = await import('fast-check');
  const q = '"((?:[^"\\\\]|\\\\[\\s\\S])*)"';
  const reference = new RegExp(`^([^ ]+) ([^ ]+) ([^ ]+) \\[([^\\]]*)\\] ${q} (\\d{3}) (\\d+|-)(?= |$)(?: ${q} ${q})?`);
  const piece = fc.constantFrom(' ', '-', '"', '\\', '\\"', '\\\\', '[', ']', '200', '404 ', '12', 'GET / HTTP/1.1', 'a', '\t', '\n');
  const part = fc.array(piece, { maxLength: 5 }).map((p) => p.join(''));
  // Mostly valid values with near-misses mixed in, so both outcomes are common.
  const value = (...valid: string[]) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: part, weight: 1 });
  const line = fc.tuple(value('1.2.3.4', '::1'), value('-', 'bob'), value('22/Nov/2026:10:00:00 +0000'), value('GET / HTTP/1.1', ''),
    value('200', '503'), value('12', '-'), value(' "-" "curl/8"', ' "" "a \\"b\\""', '', ' "x"'))
    .map(([addr, user, time, request, status, bytes, tail]) => `${addr} - ${user} [${time}] "${request}" ${status} ${bytes}${tail}`);
  fc.assert(fc.property(fc.oneof(line, fc.string({ maxLength: 80 })), (text) => {
    const m = reference.exec(text);
    const result = parse(text);
    assert.equal(typeof result === 'string', m === null, text);
    if (m === null || typeof result === 'string') return;
    assert.equal(result.fields.remote_addr, m[1]);
    assert.equal(result.fields.time_local, m[4]);
    assert.equal(result.fields.status, Number(m[6]));
    assert.equal('http_user_agent' in result.fields, m[9] !== undefined && m[9] !== '-' && m[9] !== '', text);
  }), { numRuns: 3000 });
});
