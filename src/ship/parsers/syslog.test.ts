import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syslog } from './syslog.ts';
import type { Parsed } from './types.ts';

const parse = syslog.create({});
const ok = (line: string): Parsed => {
  const result = parse(line);
  if (typeof result === 'string') assert.fail(`${line}: ${result}`);
  return result;
};

test('RFC 5424 with structured data (escaped \\] \\" \\\\) and a BOM before the message', () => {
  const parsed = ok('<165>1 2026-11-22T10:00:00.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" ' +
    'eventSource="App\\]li\\"cat\\\\ion" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event log entry');
  assert.deepEqual(parsed, {
    fields: {
      facility: 'local4', severity: 'notice', version: 1, timestamp: '2026-11-22T10:00:00.003Z', hostname: 'mymachine.example.com',
      app_name: 'evntslog', procid: '8710', msgid: 'ID47',
      structured_data: {
        'exampleSDID@32473': { iut: '3', eventSource: 'App]li"cat\\ion', eventID: '1011' },
        'examplePriority@32473': { class: 'high' },
      },
    },
    timestamp: '2026-11-22T10:00:00.003Z',
    level: 'info',
    message: 'An application event log entry',
  });
});

test('RFC 5424 NILVALUE fields are left out; an SD element without params is an empty object', () => {
  assert.deepEqual(ok('<11>1 - - - - - -'), { fields: { facility: 'user', severity: 'err', version: 1 }, timestamp: undefined, level: 'error', message: '' });
  const parsed = ok('<190>1 2026-11-22T10:00:00+01:00 web01 nginx - - [meta] upstream timed out');
  assert.deepEqual(parsed.fields, { facility: 'local7', severity: 'info', version: 1, timestamp: '2026-11-22T10:00:00+01:00', hostname: 'web01', app_name: 'nginx', structured_data: { meta: {} } });
  assert.equal(parsed.message, 'upstream timed out');
});

test('RFC 3164 with PRI, tag and pid', () => {
  assert.deepEqual(ok('<34>Oct 11 22:14:15 mymachine su[230]: \'su root\' failed for lonvick on /dev/pts/8'), {
    fields: { facility: 'auth', severity: 'crit', timestamp: 'Oct 11 22:14:15', hostname: 'mymachine', app_name: 'su', procid: '230' },
    timestamp: 'Oct 11 22:14:15',
    level: 'fatal',
    message: '\'su root\' failed for lonvick on /dev/pts/8',
  });
});

test('RFC 3164 as files hold it: no PRI, a padded day, an RFC 3339 time, no host, no tag', () => {
  const file = ok('Nov  2 03:04:05 web01 sshd[1234]: Accepted publickey for deploy from 192.0.2.1 port 50000 ssh2');
  assert.deepEqual(file.fields, { timestamp: 'Nov  2 03:04:05', hostname: 'web01', app_name: 'sshd', procid: '1234' });
  assert.equal(file.level, undefined, 'no PRI, no level');
  const rsyslog = ok('2026-11-22T10:00:00.123456+00:00 web01 kernel: [12345.678] eth0: link up');
  assert.deepEqual(rsyslog.fields, { timestamp: '2026-11-22T10:00:00.123456+00:00', hostname: 'web01', app_name: 'kernel' });
  assert.equal(rsyslog.message, '[12345.678] eth0: link up');
  const noHost = ok('<13>Nov 22 10:00:00 cron[99]: job done');
  assert.deepEqual(noHost.fields, { facility: 'user', severity: 'notice', timestamp: 'Nov 22 10:00:00', app_name: 'cron', procid: '99' });
  const noTag = ok('<13>Nov 22 10:00:00 web01 just some text');
  assert.equal(noTag.fields.hostname, 'web01');
  assert.equal(noTag.message, 'just some text');
});

test('syslog failures: not syslog, bad priority, malformed structured data', () => {
  assert.equal(parse('hello'), 'not a syslog line');
  assert.equal(parse(''), 'not a syslog line');
  assert.equal(parse('<999>Nov 22 10:00:00 web01 x: y'), 'invalid syslog priority');
  assert.equal(parse('<14>1 2026-11-22T10:00:00Z h a p m [id x="unterminated] msg'), 'invalid syslog structured data');
  assert.equal(parse('<14>1 2026-11-22T10:00:00Z h a p m [id x=1] msg'), 'invalid syslog structured data');
  assert.equal(parse('<14>1 2026-11-22T10:00:00Z h a p m [id]msg'), 'invalid syslog structured data');
});

test('structured data with a "__proto__" SD-ID stays an own field', () => {
  const parsed = ok('<14>1 - - - - - [__proto__ polluted="yes"] x');
  const sd = parsed.fields.structured_data as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(sd), Object.prototype);
  assert.deepEqual(Object.keys(sd), ['__proto__']);
});
