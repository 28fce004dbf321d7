import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apache } from './apache.ts';

const parse = apache.create({});

test('apache combined lines read like nginx ones, with \\" escapes', () => {
  const result = parse('192.0.2.10 - frank [10/Oct/2026:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 ' +
    '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav) \\"x\\" \\\\"');
  assert.deepEqual(result, {
    fields: {
      remote_addr: '192.0.2.10', remote_user: 'frank', time_local: '10/Oct/2026:13:55:36 -0700', request: 'GET /apache_pb.gif HTTP/1.0',
      method: 'GET', path: '/apache_pb.gif', protocol: 'HTTP/1.0', status: 200, body_bytes_sent: 2326,
      http_referer: 'http://www.example.com/start.html', http_user_agent: 'Mozilla/4.08 [en] (Win98; I ;Nav) "x" \\',
    },
    timestamp: '10/Oct/2026:13:55:36 -0700',
    level: 'info',
  });
});

test('apache common lines have no referer or agent, and "-" bytes are 0', () => {
  const result = parse('::1 - - [10/Oct/2026:13:55:36 +0000] "HEAD /missing HTTP/1.1" 404 -');
  assert.notEqual(typeof result, 'string');
  if (typeof result === 'string') return;
  assert.deepEqual(result.fields, {
    remote_addr: '::1', time_local: '10/Oct/2026:13:55:36 +0000', request: 'HEAD /missing HTTP/1.1',
    method: 'HEAD', path: '/missing', protocol: 'HTTP/1.1', status: 404, body_bytes_sent: 0,
  });
  assert.equal(result.level, 'warn');
});

test('apache: other lines fail with a reason', () => {
  assert.equal(parse('[Sun Nov 22 10:00:00.123 2026] [core:error] [pid 42] AH00037: Symbolic link not allowed'), 'not an Apache common or combined line');
});
