import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Ack } from '../ack.ts';
import { entrySize } from '../encode.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import type { LogEntry } from '../types.ts';
import { MemoryBuffer, type WhenFull } from './memory.ts';

const never = new AbortController().signal;

function setup(maxEvents: number, maxBytes = 1 << 30, whenFull: WhenFull = 'block') {
  const ctx = testContext('mem', 'sink');
  rmSync(ctx.dataDir, { recursive: true, force: true });
  const buf = new MemoryBuffer({ sink: 'mem', maxEvents, maxBytes, whenFull, metrics: ctx.metrics, log: ctx.log });
  return { buf, registry: ctx.registry };
}

const entries = (prefix: string, n: number): LogEntry[] => Array.from({ length: n }, (_, i) => entry(`${prefix}${i}`));

/** An ack counting its completions. */
function countingAck(): Ack & { completions: number } {
  const ack = new Ack(() => { ack.completions++; }) as Ack & { completions: number };
  ack.completions = 0;
  return ack;
}

/** Whether a promise settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

test('entries come out in push order across many pushes and takes of every size', { timeout: 30_000 }, async () => {
  const { buf } = setup(37, 1 << 30);
  const total = 3000;
  const producer = (async () => {
    let i = 0;
    while (i < total) {
      const n = Math.min(total - i, 1 + (i % 23));
      assert.equal(await buf.push(entries('', n).map((e, k) => ({ ...e, message: String(i + k) })), new Ack()), true);
      i += n;
    }
    buf.end();
  })();
  const seen: string[] = [];
  for (let round = 0; ; round++) {
    const taken = await buf.take(1 + (round % 17), 1 << 20, 5, never);
    if (taken === undefined) break;
    seen.push(...taken.entries.map((e) => e.message));
    await buf.commit(taken);
  }
  await producer;
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => String(i)));
  assert.equal(buf.events, 0);
  assert.equal(buf.bytes, 0);
});

test('block: a push waits for room, and resumes after a commit frees it', { timeout: 30_000 }, async () => {
  const { buf } = setup(10);
  assert.equal(await buf.push(entries('a', 10), new Ack()), true);
  const blocked = buf.push(entries('b', 5), new Ack());
  const later = buf.push(entries('c', 1), new Ack());
  assert.equal(await settled(blocked), false);
  const first = await buf.take(6, 1 << 20, 0, never);
  assert.equal(first?.entries.length, 6);
  assert.equal(await settled(blocked), false, 'a take alone frees nothing');
  await buf.commit(first);
  assert.equal(await blocked, true);
  assert.equal(await later, true);
  const rest = await buf.take(100, 1 << 20, 0, never);
  assert.equal(buf.events, 10);
  assert.deepEqual(rest?.entries.map((e) => e.message), ['a6', 'a7', 'a8', 'a9', 'b0', 'b1', 'b2', 'b3', 'b4', 'c0']);
});

test('block on bytes: a push waits while max_bytes would be passed', { timeout: 30_000 }, async () => {
  const one = entrySize(entry('x'));
  const { buf } = setup(1000, one * 3);
  assert.equal(await buf.push(entries('', 3), new Ack()), true);
  const blocked = buf.push(entries('', 1), new Ack());
  assert.equal(await settled(blocked), false);
  const taken = await buf.take(1, 1 << 20, 0, never);
  await buf.commit(taken as NonNullable<typeof taken>);
  assert.equal(await blocked, true);
});

test('drop_newest: no room resolves false at once and completes the ack', { timeout: 30_000 }, async () => {
  const { buf } = setup(5, 1 << 30, 'drop_newest');
  const kept = countingAck();
  assert.equal(await buf.push(entries('a', 5), kept), true);
  const dropped = countingAck();
  assert.equal(await buf.push(entries('b', 1), dropped), false);
  assert.equal(dropped.completions, 1);
  assert.equal(kept.completions, 0);
  assert.equal(buf.events, 5);
  const taken = await buf.take(10, 1 << 20, 0, never);
  assert.deepEqual(taken?.entries.map((e) => e.message), ['a0', 'a1', 'a2', 'a3', 'a4']);
});

test('a group split across takes completes its ack once, after its last entry is committed', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  const a = countingAck();
  const b = countingAck();
  await buf.push(entries('a', 5), a);
  await buf.push(entries('b', 2), b);
  const completions: Array<[number, number]> = [];
  for (;;) {
    const taken = await buf.take(3, 1 << 20, 0, never);
    assert.ok(taken);
    await buf.commit(taken);
    completions.push([a.completions, b.completions]);
    if (buf.events === 0) break;
  }
  // takes of 3: a0-a2 | a3 a4 b0 | b1
  assert.deepEqual(completions, [[0, 0], [1, 0], [1, 1]]);
  assert.equal(a.pending, 0);
  assert.equal(b.pending, 0);
});

test('an empty push completes its ack at once', { timeout: 30_000 }, async () => {
  const { buf } = setup(10);
  const ack = countingAck();
  assert.equal(await buf.push([], ack), true);
  assert.equal(ack.completions, 1);
  assert.equal(buf.events, 0);
});

test('take: returns a partial batch after the timeout, and at once when maxEvents are there', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  await buf.push(entries('a', 3), new Ack());
  const partial = await buf.take(10, 1 << 20, 20, never);
  assert.equal(partial?.entries.length, 3);
  await buf.commit(partial);

  const full = buf.take(5, 1 << 20, 3_600_000, never);
  await buf.push(entries('b', 2), new Ack());
  assert.equal(await settled(full), false, 'waits for more within the timeout');
  await buf.push(entries('c', 4), new Ack());
  assert.deepEqual((await full)?.entries.map((e) => e.message), ['b0', 'b1', 'c0', 'c1', 'c2']);
});

test('take: resolves at once when maxBytes are there, and hands out about maxBytes', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  const one = entrySize(entry('x0'));
  await buf.push(entries('x', 10), new Ack());
  const taken = await buf.take(100, one * 4, 3_600_000, never);
  assert.equal(taken?.entries.length, 4);
  assert.equal(taken?.bytes, one * 4);
  await buf.commit(taken);
  const big = await buf.take(100, 1, 3_600_000, never);
  assert.equal(big?.entries.length, 1, 'at least one entry, even over maxBytes');
});

test('take: an abort resolves undefined, and a new take works after it', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  const ac = new AbortController();
  const pending = buf.take(10, 1 << 20, 10, ac.signal);
  assert.equal(await settled(pending), false);
  ac.abort();
  assert.equal(await pending, undefined);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await buf.take(10, 1 << 20, 10, aborted.signal), undefined);
  await buf.push(entries('a', 1), new Ack());
  assert.equal((await buf.take(10, 1 << 20, 0, never))?.entries.length, 1);
});

test('only one take may be outstanding', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  await buf.push(entries('a', 4), new Ack());
  const taken = await buf.take(2, 1 << 20, 0, never);
  await assert.rejects(buf.take(2, 1 << 20, 0, never), /outstanding/);
  await buf.commit(taken as NonNullable<typeof taken>);
  await assert.rejects(buf.commit(taken as NonNullable<typeof taken>), /not in flight/);
});

test('end: takes drain what is left, then resolve undefined; later pushes are refused', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  await buf.push(entries('a', 5), new Ack());
  buf.end();
  const first = await buf.take(3, 1 << 20, 3_600_000, never);
  assert.equal(first?.entries.length, 3);
  await buf.commit(first);
  const second = await buf.take(3, 1 << 20, 3_600_000, never);
  assert.equal(second?.entries.length, 2, 'an ended buffer does not wait for more');
  await buf.commit(second);
  assert.equal(await buf.take(3, 1 << 20, 3_600_000, never), undefined);
  const ack = countingAck();
  assert.equal(await buf.push(entries('b', 1), ack), false);
  assert.equal(ack.completions, 0, 'left incomplete so the entries are read again');
});

test('end: a waiting take resolves undefined', { timeout: 30_000 }, async () => {
  const { buf } = setup(100);
  const pending = buf.take(3, 1 << 20, 3_600_000, never);
  buf.end();
  assert.equal(await pending, undefined);
});

test('a push larger than the whole bound is taken into an empty buffer; the next one waits', { timeout: 30_000 }, async () => {
  const { buf } = setup(5, 1000);
  assert.equal(await buf.push(entries('big', 20), new Ack()), true);
  assert.equal(buf.events, 20);
  const next = buf.push(entries('n', 1), new Ack());
  assert.equal(await settled(next), false);
  const taken = await buf.take(100, 1 << 30, 0, never);
  assert.equal(taken?.entries.length, 20);
  await buf.commit(taken);
  assert.equal(await next, true);
});

test('close: blocked pushes resolve false, a waiting take undefined', { timeout: 30_000 }, async () => {
  const { buf } = setup(1);
  await buf.push(entries('a', 1), new Ack());
  const blockedAck = countingAck();
  const blocked = buf.push(entries('b', 1), blockedAck);
  await buf.close();
  assert.equal(await blocked, false);
  assert.equal(blockedAck.completions, 0);
  assert.equal(await buf.take(1, 1, 0, never), undefined);
});

test('gauges follow pushes and commits; the bounds are set', { timeout: 30_000 }, async () => {
  const { buf, registry } = setup(50, 100_000);
  const gauge = (name: string) => metricValue(registry, `opsctl_ship_buffer_${name}`, { sink: 'mem' });
  assert.equal(await gauge('max_events'), 50);
  assert.equal(await gauge('max_bytes'), 100_000);
  assert.equal(await gauge('events'), 0);
  const pushed = entries('g', 7);
  await buf.push(pushed, new Ack());
  assert.equal(await gauge('events'), 7);
  assert.equal(await gauge('bytes'), pushed.reduce((sum, e) => sum + entrySize(e), 0));
  const taken = await buf.take(5, 1 << 20, 0, never);
  assert.equal(await gauge('events'), 7, 'in flight still counts');
  await buf.commit(taken as NonNullable<typeof taken>);
  assert.equal(await gauge('events'), 2);
  assert.equal(await gauge('bytes'), buf.bytes);
  assert.equal(buf.bytes, pushed.slice(5).reduce((sum, e) => sum + entrySize(e), 0));
});

test('a take waiting for a full batch is served at once when a push has to wait for room', async () => {
  // batch.max_events above what is left in the buffer: without this the producer would stall for
  // the batch timeout on every take.
  const { buf } = setup(10);
  assert.equal(await buf.push(entries('a', 6), new Ack()), true);
  const take = buf.take(8, 1 << 20, 3_600_000, never);
  assert.equal(await settled(take), false, 'served before the batch was full');
  const blocked = buf.push(entries('b', 6), new Ack());
  assert.equal(await settled(take), true, 'the take kept waiting while a push was blocked');
  const taken = await take;
  assert.deepEqual(taken?.entries.map((e) => e.message), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
  assert.equal(await settled(blocked), false);
  assert.ok(taken);
  await buf.commit(taken);
  assert.equal(await blocked, true);
  await buf.close();
});
