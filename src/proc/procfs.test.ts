import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { ProcFs } from './procfs.ts';

const root = mkdtempSync(join(tmpdir(), 'opsctl-procfs-'));
after(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(pid: number, files: Record<string, string>): void {
  mkdirSync(join(root, String(pid)), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, String(pid), name), text);
}

writeFileSync(join(root, 'stat'), 'cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\nbtime 1700000000\n');
writeFileSync(join(root, 'meminfo'), 'MemTotal:       1000000 kB\nMemFree:   500000 kB\nMemAvailable:   800000 kB\n');
writeFileSync(join(root, 'uptime'), '1234.5 100.0\n');
writeFileSync(join(root, 'loadavg'), '0.50 0.40 0.30 1/100 42\n');
// starttime 10000 ticks = 100 s after boot; 150 + 50 ticks = 2 s of CPU; 2560 pages of 4 KiB = 10 MiB.
fakeProcess(1, {
  stat: '1 (init) S 0 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0 10000 8388608 2560 0',
  cmdline: '/sbin/init\0splash\0',
  cgroup: '0::/init.scope\n',
  io: 'rchar: 1\nwchar: 2\nread_bytes: 4096\nwrite_bytes: 0\n',
});
fakeProcess(42, {
  stat: '42 (kworker/0:1) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 20000 0 0 0',
  cmdline: '',
  cgroup: '0::/\n',
});
fakeProcess(77, { cmdline: 'gone\0' }); // exited between readdir and reading stat
mkdirSync(join(root, 'self'));

test('reads fixture processes with the needed sources only', () => {
  const procfs = new ProcFs({ root, passwd: join(root, 'no-passwd') });
  assert.deepEqual(procfs.pids(), [1, 42, 77]);
  const now = 1700000000 + 100 + 400; // 400 s after process 1 started
  const [init, kworker, ...rest] = procfs.processes(new Set(['owner', 'cmdline', 'cgroup', 'io']), now);
  assert.equal(rest.length, 0, 'a process without stat is skipped');
  assert.ok(init && kworker);
  assert.equal(init.name, 'init');
  assert.equal(init.cmd, '/sbin/init splash');
  assert.equal(init.start, 1700000100);
  assert.equal(init.age, 400);
  assert.equal(init.time, 2);
  assert.equal(init.cpu, 0.5, '2 s of CPU over 400 s');
  assert.equal(init.rss, 2560 * 4096);
  assert.equal(init.mem, 1, '10 MiB of 1000000 kB');
  assert.equal(init.unit, 'init.scope');
  assert.equal(init.read_bytes, 4096);
  assert.equal(init.uid, process.getuid?.());
  assert.equal(init.user, String(process.getuid?.()), 'no passwd entry: the uid is shown');
  assert.equal(kworker.cmd, '[kworker/0:1]', 'kernel threads show their name in brackets');
  assert.equal(kworker.cgroup, '/');
});

test('without needs, only stat is read', () => {
  const procfs = new ProcFs({ root });
  const p = procfs.process(1, new Set(), 1700000500);
  assert.ok(p);
  assert.equal(p.cmd, '');
  assert.equal(p.user, '');
  assert.equal(p.cgroup, undefined);
});

test('host info from fixtures', () => {
  const info = new ProcFs({ root }).hostInfo();
  assert.equal(info.uptimeSeconds, 1234.5);
  assert.deepEqual(info.load, [0.5, 0.4, 0.3]);
  assert.equal(info.memory.total, 1000000 * 1024);
  assert.equal(info.cpus, 2);
  assert.equal(info.bootTime, 1700000000);
});

test('an unreadable root is a coded error', () => {
  assert.throws(() => new ProcFs({ root: join(root, 'missing') }).pids(), (err) => isOpsError(err, 'OPS_ERR_PROCFS'));
});

test('the live /proc lists this process with its command line', () => {
  const procfs = new ProcFs();
  const me = procfs.process(process.pid, new Set(['owner', 'cmdline', 'cgroup']), Date.now() / 1000);
  assert.ok(me);
  assert.equal(me.ppid, process.ppid);
  assert.ok(me.cmd.includes('procfs.test.ts'), `cmd "${me.cmd}" names the test file`);
  assert.equal(me.threads > 0, true);
  assert.ok(me.rss > 0);
  assert.equal(me.uid, process.getuid?.());
});
