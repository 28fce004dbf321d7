import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  parseAuxv, parseBootTime, parseCgroup, parseCmdline, parseIo, parseLoadavg, parseMeminfo, parsePasswd,
  parseStat, parseStatus, parseUptime, primaryCgroup,
} from './parse.ts';

const fixture = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

test('parseStat reads a real /proc/1/stat', () => {
  const st = parseStat(fixture('stat.txt'));
  assert.ok(st);
  assert.equal(st.pid, 1);
  assert.equal(st.comm, 'process_api');
  assert.equal(st.state, 'S');
  assert.equal(st.ppid, 0);
  assert.equal(st.utime, 64);
  assert.equal(st.stime, 358);
  assert.equal(st.nice, -10);
  assert.equal(st.threads, 13);
  assert.equal(st.starttime, 24);
  assert.equal(st.vsize, 41070592);
  assert.equal(st.rssPages, 2769);
});

test('parseStat copes with spaces and parentheses in the command name', () => {
  const st = parseStat('42 (my (evil) proc) ) R 7 42 42 0 -1 0 0 0 0 0 5 6 0 0 20 0 3 0 1000 4096 10 0');
  assert.ok(st);
  assert.equal(st.comm, 'my (evil) proc) ');
  assert.equal(st.state, 'R');
  assert.equal(st.ppid, 7);
  assert.equal(st.utime, 5);
  assert.equal(st.threads, 3);
  assert.equal(st.starttime, 1000);
});

test('parseStat rejects truncated or garbage text', () => {
  assert.equal(parseStat(''), undefined);
  assert.equal(parseStat('12 (x) S 1 2'), undefined);
  assert.equal(parseStat('\u0000\u0001garbage'), undefined);
});

test('parseStatus reads typed fields from a real status file', () => {
  const s = parseStatus(fixture('status.txt'));
  assert.equal(s.name, 'process_api');
  assert.equal(s.state, 'S');
  assert.equal(s.uid, 0);
  assert.equal(s.threads, 13);
  assert.equal(typeof s.vmRss, 'number');
  assert.equal(s['Tgid'], '1');
});

test('parseStatus takes the effective uid', () => {
  assert.equal(parseStatus('Uid:\t1000\t33\t1000\t1000\n').uid, 33);
});

test('parseIo', () => {
  assert.deepEqual(parseIo('rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n'),
    { rchar: 10, wchar: 20, readBytes: 4096, writeBytes: 8192 });
  assert.equal(parseIo(''), undefined);
});

test('parseCmdline splits on NUL and drops the trailing one', () => {
  assert.deepEqual(parseCmdline('nginx: master\0-g\0daemon off;\0'), ['nginx: master', '-g', 'daemon off;']);
  assert.deepEqual(parseCmdline(''), []);
});

test('parseCgroup and primaryCgroup prefer unified, then memory', () => {
  const v1 = parseCgroup('9:name=systemd:/system.slice/nginx.service\n4:memory:/system.slice/nginx.service\n1:cpu,cpuacct:/\n0::/\n');
  assert.equal(v1.length, 4);
  assert.deepEqual(v1[2], { id: 1, controllers: ['cpu', 'cpuacct'], path: '/' });
  assert.equal(primaryCgroup(v1), '/system.slice/nginx.service');
  assert.equal(primaryCgroup(parseCgroup('0::/user.slice/user-1000.slice/session-2.scope\n')), '/user.slice/user-1000.slice/session-2.scope');
  assert.equal(primaryCgroup(parseCgroup('0::/\n')), '/');
  assert.equal(primaryCgroup([]), '/');
});

test('parseMeminfo returns bytes', () => {
  const m = parseMeminfo(fixture('meminfo.txt'));
  assert.ok((m.get('MemTotal') ?? 0) > 1024 * 1024);
  assert.equal(parseMeminfo('MemTotal:       1000 kB\nHugePages_Total:       3\n').get('MemTotal'), 1024000);
  assert.equal(parseMeminfo('HugePages_Total:       3\n').get('HugePages_Total'), 3);
});

test('host files: loadavg, uptime, btime, passwd', () => {
  assert.deepEqual(parseLoadavg('0.52 0.58 0.59 2/577 12345\n'), [0.52, 0.58, 0.59]);
  assert.equal(parseLoadavg('x'), undefined);
  assert.equal(parseUptime('350735.47 234388.90\n'), 350735.47);
  assert.equal(parseBootTime('cpu  1 2 3\nbtime 1700000000\nprocesses 5\n'), 1700000000);
  const users = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  assert.equal(users.get(0), 'root');
  assert.equal(users.get(33), 'www-data');
});

test('parseAuxv finds the clock tick rate and page size', () => {
  const buf = Buffer.alloc(16 * 3);
  buf.writeBigUInt64LE(6n, 0); buf.writeBigUInt64LE(4096n, 8);
  buf.writeBigUInt64LE(17n, 16); buf.writeBigUInt64LE(100n, 24);
  assert.deepEqual(parseAuxv(buf), { pageSize: 4096, clockTicks: 100 });
  assert.deepEqual(parseAuxv(Buffer.alloc(5)), {});
});
