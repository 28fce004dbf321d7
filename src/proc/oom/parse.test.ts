import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseKmsgRecord, parseMemoryEvents, parseOomControl, parseOomMessage, parseVmstat } from './parse.ts';

const fixture = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

test('parseVmstat reads name/value lines and skips the rest', () => {
  const v = parseVmstat('nr_free_pages 5947\noom_kill 3\n\ngarbage line here\nnr_dirty x\npgfault 17305\n');
  assert.equal(v.get('oom_kill'), 3);
  assert.equal(v.get('nr_free_pages'), 5947);
  assert.equal(v.get('pgfault'), 17305);
  assert.equal(v.has('nr_dirty'), false);
  assert.equal(v.size, 3);
  assert.equal(parseVmstat('').get('oom_kill'), undefined);
});

test('parseMemoryEvents reads a cgroup v2 memory.events file', () => {
  const e = parseMemoryEvents('low 0\nhigh 12\nmax 40\noom 2\noom_kill 3\noom_group_kill 1\n');
  assert.deepEqual(e, { low: 0, high: 12, max: 40, oom: 2, oomKill: 3, oomGroupKill: 1 });
  const old = parseMemoryEvents('low 0\nhigh 0\nmax 0\noom 0\n');
  assert.equal(old.oomKill, undefined, 'kernels before 4.13 have no oom_kill');
  assert.equal(old.oomGroupKill, undefined);
});

test('parseOomControl reads a cgroup v1 memory.oom_control file', () => {
  assert.deepEqual(parseOomControl('oom_kill_disable 0\nunder_oom 0\noom_kill 1\n'), { oomKillDisable: false, underOom: false, oomKill: 1 });
  assert.deepEqual(parseOomControl('oom_kill_disable 1\nunder_oom 1\n'), { oomKillDisable: true, underOom: true, oomKill: undefined });
});

test('parseKmsgRecord splits prefix and message and decodes escapes', () => {
  assert.deepEqual(parseKmsgRecord('6,509,2215327271,-;hello world\n'), { level: 6, facility: 0, seq: 509, usec: 2215327271, flags: '-', message: 'hello world' });
  const user = parseKmsgRecord('14,7,100,c,caller=T1;a\\x09tab; semi\\x5cslash');
  assert.ok(user);
  assert.equal(user.level, 6);
  assert.equal(user.facility, 1);
  assert.equal(user.flags, 'c');
  assert.equal(user.message, 'a\ttab; semi\\slash');
  for (const bad of ['', ' SUBSYSTEM=memory', 'no prefix here', '6,x,1,-;m', ',1,2,-;m', '6,1,2;m']) assert.equal(parseKmsgRecord(bad), undefined, bad);
});

test('parseOomMessage finds both lines of a real memcg OOM kill and nothing else', () => {
  const infos = fixture('kmsg-memcg-oom.txt').split('\n').flatMap((line) => {
    const r = parseKmsgRecord(line);
    const info = r && parseOomMessage(r.message);
    return info ? [info] : [];
  });
  const cg = '/process_api/785d83cdb3f3455f98fc90c306240f98/oomtry';
  assert.deepEqual(infos, [
    { pid: 21290, name: 'MainThread', uid: 0, cgroup: cg, oomCgroup: cg, constraint: 'memcg' },
    { pid: 21290, name: 'MainThread', uid: 0, constraint: 'memcg', totalVmBytes: 1299844 * 1024, rssBytes: (31812 + 34420) * 1024 },
  ]);
});

test('parseOomMessage: a machine-wide OOM, odd names, and lines that are not kills', () => {
  const global = parseOomMessage('Out of memory: Killed process 1234 (my (odd), proc) total-vm:2048kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:100kB oom_score_adj:0');
  assert.deepEqual(global, { pid: 1234, name: 'my (odd), proc', uid: 1000, totalVmBytes: 2048 * 1024, rssBytes: 1024 * 1024 });
  const summary = parseOomMessage('oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/a,b.service,task=x,y,pid=7,uid=33');
  assert.deepEqual(summary, { pid: 7, name: 'x,y', uid: 33, cgroup: '/system.slice/a,b.service', constraint: 'none' });
  assert.deepEqual(parseOomMessage('Killed process 99 (old)'), { pid: 99, name: 'old' });
  assert.equal(parseOomMessage('oom_reaper: reaped process 1234 (stress), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB'), undefined);
  assert.equal(parseOomMessage('stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0'), undefined);
  assert.equal(parseOomMessage('Out of memory and no killable processes...'), undefined);
});
