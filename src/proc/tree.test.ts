import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcessInfo } from './process.ts';
import { buildForest } from './tree.ts';

const proc = (pid: number, ppid: number): ProcessInfo => ({
  pid, ppid, uid: 0, user: 'root', state: 'S', name: `p${pid}`, cmd: `p${pid}`, threads: 1, nice: 0, cpu: 0, mem: 0,
  rss: 0, vsz: 0, start: 0, age: 0, time: 0, startTicks: pid, cpuTicks: 0,
});

test('children nest under parents with box-drawing prefixes', () => {
  const rows = buildForest([proc(1, 0), proc(2, 1), proc(3, 2), proc(4, 1), proc(5, 0)]);
  assert.deepEqual(rows.map((r) => `${r.prefix}${r.process.pid}`), ['1', '├─ 2', '│  └─ 3', '└─ 4', '5']);
  assert.deepEqual(rows.map((r) => r.depth), [0, 1, 2, 1, 0]);
});

test('a process whose parent is not listed becomes a root', () => {
  const rows = buildForest([proc(10, 99), proc(11, 10), proc(12, 99)]);
  assert.deepEqual(rows.map((r) => `${r.prefix}${r.process.pid}`), ['10', '└─ 11', '12']);
});

test('ASCII mode and cycles do not loop', () => {
  const rows = buildForest([proc(1, 2), proc(2, 1), proc(3, 3)], true);
  assert.equal(rows.length, 1);
  const ascii = buildForest([proc(1, 0), proc(2, 1), proc(3, 1)], true);
  assert.deepEqual(ascii.map((r) => r.prefix), ['', '|- ', '`- ']);
});

test('deep chains do not overflow the stack', () => {
  const list = Array.from({ length: 50_000 }, (_, i) => proc(i + 1, i));
  const rows = buildForest(list);
  assert.equal(rows.length, 50_000);
  assert.equal(rows.at(-1)?.depth, 49_999);
});
