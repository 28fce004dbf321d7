import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { CgroupCounters, findMemoryHierarchy, scanCgroups, type CgroupReading } from './cgroups.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-oom-cgroups-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes files (path -> content) under a fresh sysfs root and returns it. */
function sysfs(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const oomControl = (kills: number, underOom = 0): string => `oom_kill_disable ${underOom}\nunder_oom ${underOom}\noom_kill ${kills}\n`;
const events = (kills: number): string => `low 0\nhigh 0\nmax 3\noom 1\noom_kill ${kills}\n`;

test('finds the memory controller: v1 next to an empty cgroup2 (this machine), hybrid v2, unified v2, none', async () => {
  const hybridV1 = sysfs('hybrid-v1', { 'fs/cgroup/unified/cgroup.controllers': 'hugetlb\n', 'fs/cgroup/memory/memory.oom_control': oomControl(0) });
  assert.deepEqual(await findMemoryHierarchy(hybridV1), { version: 'v1', mount: `${hybridV1}/fs/cgroup/memory` });
  const hybridV2 = sysfs('hybrid-v2', { 'fs/cgroup/unified/cgroup.controllers': 'cpu io memory pids\n' });
  assert.deepEqual(await findMemoryHierarchy(hybridV2), { version: 'v2', mount: `${hybridV2}/fs/cgroup/unified` });
  const unified = sysfs('unified', { 'fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n' });
  assert.deepEqual(await findMemoryHierarchy(unified), { version: 'v2', mount: `${unified}/fs/cgroup` });
  assert.equal(await findMemoryHierarchy(join(tmp, 'nothing')), undefined);
});

test('scans v1 cgroups to a bounded depth, skipping those without a counter', async () => {
  const root = sysfs('v1', {
    'fs/cgroup/memory/memory.oom_control': oomControl(1),
    'fs/cgroup/memory/a/memory.oom_control': oomControl(2, 1),
    'fs/cgroup/memory/a/b/memory.oom_control': oomControl(3),
    'fs/cgroup/memory/a/b/c/memory.oom_control': oomControl(4),
    'fs/cgroup/memory/old-kernel/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\n',
    'fs/cgroup/memory/removed/notify_on_release': '0\n',
  });
  const h = { version: 'v1' as const, mount: `${root}/fs/cgroup/memory` };
  const { readings, errors } = await scanCgroups(h, 2);
  assert.deepEqual(errors, []);
  assert.deepEqual(readings.map((r) => [r.cgroup, r.oomKill, r.underOom]), [['/', 1, false], ['/a', 2, true], ['/a/b', 3, false]]);
  assert.equal((await scanCgroups(h, 0)).readings.length, 1);
});

test('scans v2 cgroups, preferring memory.events.local', async () => {
  const root = sysfs('v2', {
    'fs/cgroup/cgroup.controllers': 'memory\n',
    'fs/cgroup/app/memory.events': events(5),
    'fs/cgroup/app/memory.events.local': events(1),
    'fs/cgroup/old/memory.events': events(2),
  });
  const { readings } = await scanCgroups({ version: 'v2', mount: `${root}/fs/cgroup` }, 8);
  assert.deepEqual(readings.map((r) => [r.cgroup, r.oomKill, r.hierarchical]), [['/app', 1, false], ['/old', 2, true]]);
});

test('counters: baseline first, new cgroups count from zero, a recreated cgroup restarts', () => {
  const c = new CgroupCounters();
  const r = (cgroup: string, oomKill: number, hierarchical = false): CgroupReading => ({ cgroup, oomKill, hierarchical, underOom: false });
  assert.deepEqual(c.update([r('/', 4), r('/a', 2)]), []);
  assert.deepEqual(c.update([r('/', 4), r('/a', 3)]), [{ cgroup: '/a', kills: 1 }]);
  assert.deepEqual(c.update([r('/', 4), r('/a', 3), r('/new', 2)]), [{ cgroup: '/new', kills: 2 }]);
  assert.deepEqual(c.update([r('/', 5), r('/a', 1)]), [{ cgroup: '/', kills: 1 }, { cgroup: '/a', kills: 1 }]);
  assert.deepEqual(c.update([r('/', 5), r('/a', 1)]), []);
});

test('counters: hierarchical v2 counts are made local', () => {
  const c = new CgroupCounters();
  const r = (cgroup: string, oomKill: number): CgroupReading => ({ cgroup, oomKill, hierarchical: true, underOom: false });
  c.update([r('/k', 0), r('/k/pod', 0), r('/k/pod/c1', 0), r('/k/pod/c2', 0)]);
  assert.deepEqual(c.update([r('/k', 3), r('/k/pod', 3), r('/k/pod/c1', 1), r('/k/pod/c2', 1)]), [
    { cgroup: '/k/pod', kills: 1 }, { cgroup: '/k/pod/c1', kills: 1 }, { cgroup: '/k/pod/c2', kills: 1 },
  ]);
});
