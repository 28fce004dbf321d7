import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../core/log.ts';
import type { MetricFamily } from '../types.ts';
import { familiesToRecord, startCollectLoop } from './collect-loop.ts';
import type { Pusher } from './pusher.ts';
import type { PushRecord } from './series.ts';

const families: MetricFamily[] = [
  { name: 'node_load1', help: 'h', type: 'gauge', samples: [{ value: 0.5 }] },
  { name: 'node_cpu_seconds_total', help: 'h', type: 'counter', samples: [{ labels: { cpu: '0', mode: 'idle' }, value: 10 }, { labels: { cpu: '0', mode: 'user', instance: 'own' }, value: 2 }] },
];

test('a collection becomes one record, a series per sample, with the extra labels', () => {
  const r = familiesToRecord(families, 1000, { instance: 'web-1' });
  assert.equal(r.timestampMs, 1000);
  assert.deepEqual(r.series, [
    { labels: { instance: 'web-1', __name__: 'node_load1' }, samples: [{ value: 0.5, timestampMs: 1000 }] },
    { labels: { instance: 'web-1', cpu: '0', mode: 'idle', __name__: 'node_cpu_seconds_total' }, samples: [{ value: 10, timestampMs: 1000 }] },
    { labels: { instance: 'own', cpu: '0', mode: 'user', __name__: 'node_cpu_seconds_total' }, samples: [{ value: 2, timestampMs: 1000 }] },
  ]);
});

test('the loop feeds every pusher on each tick and survives a failed collection', async () => {
  const got: PushRecord[][] = [[], []];
  const pushers = got.map((list) => ({ enqueue: (r: PushRecord) => { list.push(r); return true; } }) as unknown as Pusher);
  let calls = 0;
  const stop = startCollectLoop({
    collect: () => (++calls === 2 ? Promise.reject(new Error('boom')) : Promise.resolve(families)),
    pushers, intervalMs: 20, log: silentLogger(),
  });
  await new Promise((resolve) => setTimeout(resolve, 75));
  await stop();
  const after = calls;
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(calls, after, 'no collection after stop');
  assert.ok(calls >= 3, `collections: ${calls}`);
  assert.equal(got[0]?.length, calls - 1, 'every successful collection, once');
  assert.deepEqual(got[0], got[1]);
});
