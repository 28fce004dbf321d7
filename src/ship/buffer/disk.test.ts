import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Ack } from '../ack.ts';
import { encodeEntry, encodeNdjson } from '../encode.ts';
import { entry, metricValue, testContext, type TestContext } from '../testing.ts';
import type { LogEntry } from '../types.ts';
import { DiskBuffer, type DiskBufferOptions } from './disk.ts';
import type { Taken } from './types.ts';

const never = new AbortController().signal;

const entries = (prefix: string, n: number): LogEntry[] => Array.from({ length: n }, (_, i) => entry(`${prefix}${i}`));
const lineBytes = (es: readonly LogEntry[]): number => Buffer.byteLength(encodeNdjson(es));
const messages = (taken: Taken | undefined): string[] => taken?.entries.map((e) => e.message) ?? [];

interface Fixture {
  ctx: TestContext;
  dir: string;
  open(overrides?: Partial<DiskBufferOptions>): Promise<DiskBuffer>;
}

/** A temp buffer dir, removed (with the buffers opened on it closed) after the test. */
function fixture(t: { after(fn: () => Promise<void>): void }, defaults: Partial<DiskBufferOptions> = {}): Fixture {
  const ctx = testContext('disk', 'sink');
  const dir = join(ctx.dataDir, 'buffers', 'disk');
  const opened: DiskBuffer[] = [];
  t.after(async () => {
    for (const b of opened.reverse()) await b.close();
    rmSync(ctx.dataDir, { recursive: true, force: true });
  });
  return {
    ctx,
    dir,
    async open(overrides = {}) {
      const b = await DiskBuffer.open({ sink: 'disk', dir, maxBytes: 1 << 30, whenFull: 'block', metrics: ctx.metrics, log: ctx.log, ...defaults, ...overrides });
      opened.push(b);
      return b;
    },
  };
}

function countingAck(): Ack & { completions: number } {
  const ack = new Ack(() => { ack.completions++; }) as Ack & { completions: number };
  ack.completions = 0;
  return ack;
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  await sleep(20);
  return done;
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Takes and commits until `n` entries came out. */
async function drain(buf: DiskBuffer, n: number, maxEvents = 1000): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const taken = await buf.take(maxEvents, 1 << 30, 0, never);
    assert.ok(taken);
    out.push(...messages(taken));
    await buf.commit(taken);
  }
  return out;
}

const segmentFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();

test('entries come out in push order across many pushes, takes and segments', { timeout: 30_000 }, async (t) => {
  const f = fixture(t, { segmentBytes: 2048, maxBytes: 20_000 });
  const buf = await f.open();
  const total = 2000;
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
    seen.push(...messages(taken));
    await buf.commit(taken);
  }
  await producer;
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => String(i)));
  assert.equal(buf.events, 0);
  assert.equal(buf.bytes, 0);
});

test('acks complete once the entries are fsynced, not at commit, and only once when split across takes', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t).open();
  const a = countingAck();
  const b = countingAck();
  assert.equal(await buf.push(entries('a', 5), a), true);
  assert.equal(await buf.push(entries('b', 2), b), true);
  await waitFor('acks', () => a.completions === 1 && b.completions === 1);
  assert.deepEqual(await drain(buf, 7, 3), ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1']);
  assert.equal(a.completions, 1);
  assert.equal(b.completions, 1);
  assert.equal(a.pending, 0);
});

test('block: max_bytes of unsent data; a push waits for a commit and resumes', { timeout: 30_000 }, async (t) => {
  const first = entries('a', 10);
  const buf = await fixture(t, { maxBytes: lineBytes(first) }).open();
  assert.equal(await buf.push(first, new Ack()), true);
  const blocked = buf.push(entries('b', 3), new Ack());
  assert.equal(await settled(blocked), false);
  const taken = await buf.take(5, 1 << 20, 0, never);
  assert.deepEqual(messages(taken), ['a0', 'a1', 'a2', 'a3', 'a4']);
  assert.equal(await settled(blocked), false, 'a take alone frees nothing');
  await buf.commit(taken as Taken);
  assert.equal(await blocked, true);
  assert.deepEqual(await drain(buf, 8), ['a5', 'a6', 'a7', 'a8', 'a9', 'b0', 'b1', 'b2']);
});

test('drop_newest: no room resolves false at once and completes the ack', { timeout: 30_000 }, async (t) => {
  const first = entries('a', 4);
  const buf = await fixture(t, { maxBytes: lineBytes(first), whenFull: 'drop_newest' }).open();
  assert.equal(await buf.push(first, new Ack()), true);
  const dropped = countingAck();
  assert.equal(await buf.push(entries('b', 1), dropped), false);
  assert.equal(dropped.completions, 1);
  assert.equal(buf.events, 4);
  assert.deepEqual(await drain(buf, 4), ['a0', 'a1', 'a2', 'a3']);
});

test('take: a partial batch after the timeout, at once when maxEvents are there', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t).open();
  await buf.push(entries('a', 3), new Ack());
  const partial = await buf.take(10, 1 << 20, 20, never);
  assert.deepEqual(messages(partial), ['a0', 'a1', 'a2']);
  await buf.commit(partial as Taken);
  const full = buf.take(5, 1 << 20, 3_600_000, never);
  await buf.push(entries('b', 2), new Ack());
  assert.equal(await settled(full), false);
  await buf.push(entries('c', 4), new Ack());
  assert.deepEqual(messages(await full), ['b0', 'b1', 'c0', 'c1', 'c2']);
});

test('take: an abort resolves undefined and loses nothing', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t).open();
  const ac = new AbortController();
  const pending = buf.take(10, 1 << 20, 3_600_000, ac.signal);
  await buf.push(entries('a', 2), new Ack());
  ac.abort();
  assert.equal(await pending, undefined);
  assert.deepEqual(await drain(buf, 2), ['a0', 'a1']);
});

test('end: takes drain what is left, then resolve undefined', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t).open();
  await buf.push(entries('a', 5), new Ack());
  buf.end();
  const first = await buf.take(3, 1 << 20, 3_600_000, never);
  assert.deepEqual(messages(first), ['a0', 'a1', 'a2']);
  await buf.commit(first as Taken);
  const second = await buf.take(3, 1 << 20, 3_600_000, never);
  assert.deepEqual(messages(second), ['a3', 'a4'], 'an ended buffer does not wait for more');
  await assert.rejects(buf.take(3, 1 << 20, 0, never), /outstanding/);
  await buf.commit(second as Taken);
  assert.equal(await buf.take(3, 1 << 20, 3_600_000, never), undefined);
  assert.equal(await buf.push(entries('b', 1), new Ack()), false);
});

test('end: a waiting take resolves undefined once the buffer is empty', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t).open();
  const pending = buf.take(3, 1 << 20, 3_600_000, never);
  buf.end();
  assert.equal(await pending, undefined);
});

test('a push larger than the whole bound goes into an empty buffer; the next one waits', { timeout: 30_000 }, async (t) => {
  const buf = await fixture(t, { maxBytes: 100 }).open();
  assert.equal(await buf.push(entries('big', 20), new Ack()), true);
  const next = buf.push(entries('n', 1), new Ack());
  assert.equal(await settled(next), false);
  const taken = await buf.take(100, 1 << 30, 0, never);
  assert.equal(taken?.entries.length, 20);
  await buf.commit(taken);
  assert.equal(await next, true);
});

test('gauges: events and on-disk bytes, in flight included; max_bytes set', { timeout: 30_000 }, async (t) => {
  const f = fixture(t, { maxBytes: 50_000 });
  const buf = await f.open();
  const gauge = (name: string) => metricValue(f.ctx.registry, `opsctl_ship_buffer_${name}`, { sink: 'disk' });
  assert.equal(await gauge('max_bytes'), 50_000);
  const pushed = entries('g', 7);
  await buf.push(pushed, new Ack());
  assert.equal(await gauge('events'), 7);
  assert.equal(await gauge('bytes'), lineBytes(pushed));
  const taken = await buf.take(5, 1 << 20, 0, never);
  assert.equal(await gauge('events'), 7);
  await buf.commit(taken as Taken);
  assert.equal(await gauge('events'), 2);
  assert.equal(await gauge('bytes'), lineBytes(pushed.slice(5)));
});

test('entries survive close and reopen; committed ones do not come back', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const first = await f.open();
  const pushed = entries('r', 10);
  await first.push(pushed, new Ack());
  const taken = await first.take(4, 1 << 20, 0, never);
  await first.commit(taken as Taken);
  const inFlight = await first.take(2, 1 << 20, 0, never);
  assert.deepEqual(messages(inFlight), ['r4', 'r5']);
  await first.close(); // r4 and r5 were taken, not committed: they come back

  const second = await f.open();
  assert.equal(second.events, 6);
  assert.equal(second.bytes, lineBytes(pushed.slice(4)));
  assert.equal(await metricValue(f.ctx.registry, 'opsctl_ship_buffer_events', { sink: 'disk' }), 6);
  assert.deepEqual(await drain(second, 6), ['r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  assert.equal(await second.take(10, 1 << 20, 10, AbortSignal.timeout(50)), undefined);
});

test('a crash (no close) keeps every fsynced entry: a new buffer over the dir reads from the last state written', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const crashed = await f.open();
  const acks = Array.from({ length: 4 }, countingAck);
  for (const [i, ack] of acks.entries()) await crashed.push(entries(`c${i}-`, 5), ack);
  await waitFor('fsync', () => acks.every((a) => a.completions === 1));
  const taken = await crashed.take(7, 1 << 20, 0, never);
  await crashed.commit(taken as Taken);
  // No close: whatever state write landed, nothing acknowledged may be missing after it.
  const all = Array.from({ length: 20 }, (_, k) => `c${Math.floor(k / 5)}-${k % 5}`);
  const recovered = await f.open();
  const got = await drain(recovered, recovered.events);
  assert.ok(got.length >= 13, `at least the 13 uncommitted entries, got ${got.length}`);
  assert.deepEqual(got, all.slice(20 - got.length), 'a suffix of what was pushed, in order');
});

test('a torn last line is cut away on open, counted, and the rest is read', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const first = await f.open();
  await first.push(entries('t', 3), new Ack());
  await first.close();
  const [segment] = segmentFiles(f.dir);
  assert.ok(segment);
  const file = join(f.dir, segment);
  const good = statSync(file).size;
  appendFileSync(file, encodeEntry(entry('torn')).slice(0, 30));

  const second = await f.open();
  assert.equal(statSync(file).size, good);
  assert.equal(second.events, 3);
  assert.equal(await metricValue(f.ctx.registry, 'opsctl_ship_errors_total', { component: 'disk', error: 'buffer_torn_line' }), 1);
  await second.push(entries('u', 1), new Ack());
  assert.deepEqual(await drain(second, 4), ['t0', 't1', 't2', 'u0']);
});

test('lines that are not entries are skipped and counted, never a crash', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const first = await f.open();
  await first.close();
  const good = entries('ok', 2);
  const text = [encodeEntry(good[0] as LogEntry), '{not json', '42', '\u00ff\u0000garbage', encodeEntry(good[1] as LogEntry), ''].join('\n');
  writeFileSync(join(f.dir, '00000001.ndjson'), text);
  const buf = await f.open();
  assert.equal(buf.events, 5);
  const taken = await buf.take(10, 1 << 20, 0, never);
  assert.deepEqual(messages(taken), ['ok0', 'ok1']);
  await buf.commit(taken as Taken);
  assert.equal(buf.events, 0);
  assert.equal(await metricValue(f.ctx.registry, 'opsctl_ship_errors_total', { component: 'disk', error: 'buffer_corrupt_line' }), 3);

  // Only garbage: nothing to hand out, the take keeps waiting (and the garbage is committed away).
  await buf.close();
  writeFileSync(join(f.dir, '00000009.ndjson'), 'garbage\n');
  const again = await f.open();
  assert.equal(again.events, 1);
  assert.equal(await again.take(10, 1 << 20, 10, AbortSignal.timeout(100)), undefined);
  assert.equal(again.events, 0);
});

test('segments read to the end are deleted once the reader state is past them', { timeout: 30_000 }, async (t) => {
  const f = fixture(t, { segmentBytes: 1024 });
  const buf = await f.open();
  for (let i = 0; i < 20; i++) await buf.push(entries(`s${i}-`, 5), new Ack());
  await waitFor('writes', () => segmentFiles(f.dir).length > 3);
  await drain(buf, 100, 7);
  await waitFor('deletion', () => segmentFiles(f.dir).length === 1);
  await buf.close();
  const state = JSON.parse(readFileSync(join(f.dir, 'reader.json'), 'utf8')) as { segment: number; offset: number };
  assert.equal(`${String(state.segment).padStart(8, '0')}.ndjson`, segmentFiles(f.dir)[0]);
  const reopened = await f.open();
  assert.equal(reopened.events, 0);
});

test('an entry JSON cannot encode is dropped and counted; the others of its push are kept', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const buf = await f.open();
  const bad = entry('bad', { fields: { n: 1n } });
  const ack = countingAck();
  assert.equal(await buf.push([entry('x0'), bad, entry('x1')], ack), true);
  assert.deepEqual(await drain(buf, 2), ['x0', 'x1']);
  assert.equal(ack.completions, 1);
  assert.equal(await metricValue(f.ctx.registry, 'opsctl_ship_errors_total', { component: 'disk', error: 'buffer_encode' }), 1);
  const alone = countingAck();
  assert.equal(await buf.push([bad], alone), true);
  assert.equal(alone.completions, 1);
  assert.equal(buf.events, 0);
});

test('open: segments before the reader state are deleted (a crash between the state write and the deletion)', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  await (await f.open()).close();
  writeFileSync(join(f.dir, '00000001.ndjson'), encodeNdjson(entries('old', 3)));
  const current = entries('cur', 4);
  writeFileSync(join(f.dir, '00000002.ndjson'), encodeNdjson(current));
  const offset = lineBytes(current.slice(0, 1));
  writeFileSync(join(f.dir, 'reader.json'), JSON.stringify({ version: 1, segment: 2, offset }));
  const buf = await f.open();
  assert.deepEqual(segmentFiles(f.dir), ['00000002.ndjson']);
  assert.equal(buf.events, 3);
  assert.equal(buf.bytes, lineBytes(current.slice(1)));
  assert.deepEqual(await drain(buf, 3), ['cur1', 'cur2', 'cur3']);
});

test('open: a corrupt reader state reads every segment again (duplicates, not losses)', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  await (await f.open()).close();
  writeFileSync(join(f.dir, '00000003.ndjson'), encodeNdjson(entries('z', 2)));
  writeFileSync(join(f.dir, 'reader.json'), '{"version":1,"segm');
  const buf = await f.open();
  assert.deepEqual(await drain(buf, 2), ['z0', 'z1']);
});

test('an ack completes only once its entries are in the segment file', { timeout: 30_000 }, async (t) => {
  const f = fixture(t);
  const buf = await f.open();
  const onDisk: boolean[] = [];
  for (let i = 0; i < 5; i++) {
    const ack = new Ack(() => {
      const text = segmentFiles(f.dir).map((name) => readFileSync(join(f.dir, name), 'utf8')).join('');
      onDisk.push(text.includes(`"message":"d${i}-2"`));
    });
    await buf.push(entries(`d${i}-`, 3), ack);
  }
  await waitFor('acks', () => onDisk.length === 5);
  assert.deepEqual(onDisk, [true, true, true, true, true]);
});

test('a take waiting for a full batch is served at once when a push has to wait for room', { timeout: 30_000 }, async (t) => {
  const first = entries('a', 10);
  const buf = await fixture(t, { maxBytes: lineBytes(first) }).open();
  assert.equal(await buf.push(first, new Ack()), true);
  const take = buf.take(50, 1 << 20, 3_600_000, never);
  const blocked = buf.push(entries('b', 3), new Ack());
  // Without the blocked push this take would wait an hour for 50 entries.
  const taken = await take;
  assert.deepEqual(messages(taken), first.map((e) => e.message));
  assert.equal(await settled(blocked), false);
  await buf.commit(taken as Taken);
  assert.equal(await blocked, true);
  assert.deepEqual(await drain(buf, 3), ['b0', 'b1', 'b2']);
});
