import assert from 'node:assert/strict';
import { test } from 'node:test';
import { palette } from '../core/tty.ts';
import type { ProcessInfo } from './process.ts';
import { renderCsv, renderJson, renderNdjson, renderTable } from './render.ts';
import { buildForest } from './tree.ts';

const proc = (pid: number, ppid: number, cpu: number, cmd: string): ProcessInfo => ({
  pid, ppid, uid: 0, user: 'root', state: 'S', name: cmd.split(' ')[0] ?? '', cmd, threads: 1, nice: 0, cpu, mem: 0.5,
  rss: 3 * 1024 * 1024, vsz: 0, start: 0, age: 90, time: 0, startTicks: 0, cpuTicks: 0,
});
const list = [proc(1, 0, 0, 'init'), proc(20, 1, 75.25, 'busy "loop", x'), proc(300, 1, 1, 'sleep 30')];

test('the table aligns numbers right and text left, the last column unpadded', () => {
  const out = renderTable(list, { columns: ['pid', 'cpu', 'rss', 'age', 'cmd'], palette: palette(false) });
  assert.equal(out, [
    'PID  %CPU     RSS    AGE  COMMAND',
    '  1   0.0  3.0MiB  1m30s  init',
    ' 20  75.3  3.0MiB  1m30s  busy "loop", x',
    '300   1.0  3.0MiB  1m30s  sleep 30',
    '',
  ].join('\n'));
});

test('busy rows are highlighted only when a threshold and colours are given', () => {
  const out = renderTable(list, { columns: ['pid', 'cpu'], palette: palette(true), highlightCpu: 50 });
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^\x1b\[1m/);
  assert.equal(lines[2], '\x1b[31m 20  75.3\x1b[39m');
  assert.equal(lines[3], '300   1.0');
});

test('width cuts lines; the tree prefix goes on the command column', () => {
  const rows = buildForest(list);
  const out = renderTable(rows, { columns: ['pid', 'cmd'], palette: palette(false), width: 12, header: false });
  assert.deepEqual(out.trimEnd().split('\n'), ['  1  init', ' 20  ├─ busy', '300  └─ slee']);
});

test('CSV quotes what needs quoting; JSON and NDJSON carry raw values', () => {
  assert.equal(renderCsv(list.slice(1, 2), ['pid', 'cmd', 'rss']), 'pid,cmd,rss\r\n20,"busy ""loop"", x",3145728\r\n');
  assert.deepEqual(JSON.parse(renderJson(list, ['pid', 'cpu'])), [{ pid: 1, cpu: 0 }, { pid: 20, cpu: 75.25 }, { pid: 300, cpu: 1 }]);
  assert.deepEqual(renderNdjson(list, ['pid', 'unit']).trim().split('\n').map((l) => JSON.parse(l) as unknown), [
    { pid: 1, unit: null }, { pid: 20, unit: null }, { pid: 300, unit: null },
  ]);
});
