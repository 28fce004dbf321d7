import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { diffSnapshots, readSnapshot, renderDiff, snapshotKind, type Snapshot } from './snapshot.ts';

const host: Snapshot['host'] = {
  hostname: 'h', kernel: 'k', uptimeSeconds: 1, bootTime: 0, load: [0, 0, 0], cpus: 1,
  memory: { total: 1, available: 1, free: 1, swapTotal: 0, swapFree: 0 },
};
const snap = (takenAt: string, processes: Snapshot['processes']): Snapshot => ({ kind: snapshotKind, version: 1, takenAt, host, processes });

test('diff: started, gone, pid reuse, CPU used and RSS change', () => {
  const a = snap('t0', [
    { pid: 1, start: 100, name: 'init', time: 10, rss: 1000 },
    { pid: 2, start: 200, name: 'old', time: 1, rss: 500 },
    { pid: 3, start: 300, name: 'was-three', time: 0, rss: 100 },
  ]);
  const b = snap('t1', [
    { pid: 1, start: 100, name: 'init', time: 12.5, rss: 3000 },
    { pid: 3, start: 999, name: 'reused', time: 0, rss: 100 },
    { pid: 4, start: 400, name: 'new', time: 0, rss: 100 },
  ]);
  const d = diffSnapshots(a, b);
  assert.deepEqual(d.started.map((p) => p.name), ['reused', 'new']);
  assert.deepEqual(d.gone.map((p) => p.name), ['old', 'was-three']);
  assert.deepEqual(d.cpu.map((c) => [c.pid, c.delta]), [[1, 2.5]]);
  assert.deepEqual(d.rss.map((c) => [c.pid, c.delta]), [[1, 2000]]);
  const text = renderDiff(d);
  assert.match(text, /^started \(2\):$/m);
  assert.match(text, /^ {2}\+ +4 {2}new$/m);
  assert.match(text, /2\.50s/);
  assert.match(text, /\+2\.0KiB/);
});

const dir = mkdtempSync(join(tmpdir(), 'opsctl-snap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('readSnapshot rejects what is not a snapshot, with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['{', /not JSON/],
    ['{"kind":"other","processes":[]}', /not an opsctl snapshot/],
    [`{"kind":"${snapshotKind}","version":99,"processes":[]}`, /version 99 is not supported/],
    [`{"kind":"${snapshotKind}","version":1,"processes":[{"pid":"x"}]}`, /processes\[0\] lacks a numeric pid/],
  ];
  for (const [i, [text, message]] of cases.entries()) {
    const file = join(dir, `${i}.json`);
    writeFileSync(file, text);
    assert.throws(() => readSnapshot(file), (e) => isOpsError(e, 'OPS_ERR_SNAPSHOT_READ') && message.test(e.message) && e.message.startsWith(file));
  }
  assert.throws(() => readSnapshot(join(dir, 'missing.json')), (e) => isOpsError(e, 'OPS_ERR_SNAPSHOT_READ') && /ENOENT/.test(e.message));
});
