import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import type { ProcessInfo } from './process.ts';
import { compileFilter, parseColumns, parseSort, sortProcesses } from './ps.ts';

const proc = (pid: number, over: Partial<ProcessInfo>): ProcessInfo => ({
  pid, ppid: 1, uid: 0, user: 'root', state: 'S', name: 'x', cmd: 'x', threads: 1, nice: 0, cpu: 0, mem: 0,
  rss: 0, vsz: 0, start: 0, age: 0, time: 0, startTicks: 0, cpuTicks: 0, ...over,
});

test('columns and sort keys are checked against the field map', () => {
  assert.deepEqual(parseColumns('pid, user ,cmd'), ['pid', 'user', 'cmd']);
  assert.throws(() => parseColumns('pid,bogus'), (e) => isOpsError(e, 'OPS_ERR_USAGE') && /unknown field "bogus"/.test(e.message));
  assert.throws(() => parseColumns(','), (e) => isOpsError(e, 'OPS_ERR_USAGE'));
  assert.deepEqual(parseSort('-cpu,+pid,user'), [
    { field: 'cpu', descending: true }, { field: 'pid', descending: false }, { field: 'user', descending: false },
  ]);
  assert.throws(() => parseSort('-nope'), (e) => isOpsError(e, 'OPS_ERR_USAGE'));
});

test('sorting: numbers numerically, strings lexically, missing values last, pid breaks ties', () => {
  const list = [proc(3, { cpu: 5, unit: 'b.service' }), proc(1, { cpu: 50 }), proc(2, { cpu: 5, unit: 'a.service' })];
  assert.deepEqual(sortProcesses([...list], parseSort('-cpu')).map((p) => p.pid), [1, 2, 3]);
  assert.deepEqual(sortProcesses([...list], parseSort('unit')).map((p) => p.pid), [2, 3, 1]);
  assert.deepEqual(sortProcesses([...list], parseSort('-unit')).map((p) => p.pid), [3, 2, 1]);
});

test('filters see every process field, with sizes and durations', () => {
  const f = compileFilter("rss > 200MiB && age < 5m && unit ~ 'nginx'");
  assert.deepEqual([...f.fields].sort(), ['age', 'rss', 'unit']);
  assert.equal(f.test(proc(1, { rss: 300 * 1024 * 1024, age: 120, unit: 'nginx.service' })), true);
  assert.equal(f.test(proc(1, { rss: 300 * 1024 * 1024, age: 600, unit: 'nginx.service' })), false);
  assert.equal(f.test(proc(1, { rss: 300 * 1024 * 1024, age: 120 })), false, 'no unit: no match');
  assert.throws(() => compileFilter('cpuu > 1'), (e) => isOpsError(e, 'OPS_ERR_EXPR_FIELD'));
});
