// The pusher against a real listener that is down (503) for a while, then up: what fit in the ring
// arrives exactly once, in order; what did not is counted as dropped.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { Registry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { pushBatchSchema } from '../push-protocol.ts';
import { pushMetrics, type PushMetrics } from './metrics.ts';
import { opsctlSink } from './opsctl-sink.ts';
import { Pusher } from './pusher.ts';
import type { PushRecord } from './series.ts';

/** A receiver that answers 503 until `up` is set, and records the seqs it accepted. */
async function flakyReceiver(t: TestContext): Promise<{ url: string; state: { up: boolean; refused: number; accepted: number[] } }> {
  const state = { up: false, refused: 0, accepted: [] as number[] };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      if (!state.up) {
        state.refused++;
        res.statusCode = 503;
      } else {
        state.accepted.push(pushBatchSchema.parse(JSON.parse(body)).seq);
        res.statusCode = 200;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, state };
}

const record = (i: number): PushRecord => ({ timestampMs: 1_700_000_000_000 + i * 1000, series: [{ labels: { __name__: 'm' }, samples: [{ value: i, timestampMs: 1_700_000_000_000 + i * 1000 }] }] });

async function value(metrics: PushMetrics, key: 'sent' | 'retried'): Promise<number> {
  return (await metrics[key].get()).values[0]?.value ?? 0;
}

async function dropped(metrics: PushMetrics, reason: string): Promise<number> {
  return (await metrics.dropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

function newPusher(url: string, metrics: PushMetrics, ringCapacity: number): Pusher {
  return new Pusher({
    sink: opsctlSink({ url, hostId: 'h' }), log: silentLogger(), metrics, ringCapacity, batchRecords: 1,
    policy: { baseDelayMs: 5, maxDelayMs: 40 }, random: () => 0.5,
  });
}

test('an outage that fits in the ring loses nothing: every batch once, in order', async (t) => {
  const { url, state } = await flakyReceiver(t);
  const metrics = pushMetrics(new Registry());
  const pusher = newPusher(url, metrics, 16);
  pusher.start();
  for (let i = 0; i < 5; i++) pusher.enqueue(record(i));
  await until(() => state.refused >= 3);
  for (let i = 5; i < 10; i++) pusher.enqueue(record(i));
  await sleep(100);
  assert.equal(pusher.buffered, 10);
  state.up = true;
  await until(() => state.accepted.length === 10);
  await pusher.stop();
  assert.deepEqual(state.accepted, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(await value(metrics, 'sent'), 10);
  assert.ok(await value(metrics, 'retried') >= 3);
  assert.equal(await dropped(metrics, 'ring_full'), 0);
  assert.equal((await metrics.buffered.get()).values[0]?.value, 0);
});

test('a longer outage drops the oldest batches, counted, and sends the rest in order', async (t) => {
  const { url, state } = await flakyReceiver(t);
  const metrics = pushMetrics(new Registry());
  const pusher = newPusher(url, metrics, 4);
  pusher.start();
  for (let i = 0; i < 3; i++) pusher.enqueue(record(i));
  await until(() => state.refused >= 2);
  for (let i = 3; i < 10; i++) pusher.enqueue(record(i));
  await sleep(100);
  assert.equal(pusher.buffered, 4);
  state.up = true;
  await until(() => state.accepted.length === 4);
  await sleep(100);
  await pusher.stop();
  assert.deepEqual(state.accepted, [6, 7, 8, 9]);
  assert.equal(await dropped(metrics, 'ring_full'), 6);
  assert.equal(await value(metrics, 'sent'), 4);
});

test('a partial batch goes out on the flush interval, and stop() flushes the rest', async (t) => {
  const { url, state } = await flakyReceiver(t);
  state.up = true;
  const pusher = new Pusher({ sink: opsctlSink({ url, hostId: 'h' }), log: silentLogger(), metrics: pushMetrics(new Registry()), batchRecords: 10, flushIntervalMs: 50 });
  pusher.start();
  pusher.enqueue(record(0));
  pusher.enqueue(record(1));
  await until(() => state.accepted.length === 1);
  pusher.enqueue(record(2));
  await pusher.stop();
  assert.deepEqual(state.accepted, [0, 1]);
  assert.equal(pusher.enqueue(record(3)), false, 'refused once stopped');
});

test('stop() gives up after its grace period and counts what was left', async (t) => {
  const { url } = await flakyReceiver(t);
  const metrics = pushMetrics(new Registry());
  const controller = new AbortController();
  const pusher = new Pusher({
    sink: opsctlSink({ url, hostId: 'h' }), log: silentLogger(), metrics, batchRecords: 1,
    policy: { baseDelayMs: 5, maxDelayMs: 20 }, stopGraceMs: 100, signal: controller.signal,
  });
  pusher.start();
  pusher.enqueue(record(0));
  pusher.enqueue(record(1));
  const started = Date.now();
  controller.abort();
  await pusher.stop();
  assert.ok(Date.now() - started < 2000);
  assert.equal(await dropped(metrics, 'shutdown'), 2);
  assert.equal(pusher.buffered, 0);
});
