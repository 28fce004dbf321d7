import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { metricValue, testContext } from '../testing.ts';
import type { Batch } from '../types.ts';
import { createStdin, stdin } from './stdin.ts';

const config = stdin.schema.parse({ type: 'stdin', max_line_bytes: 8 });

test('reads lines until EOF, emitting the last partial line, with offsets in the ids', async () => {
  const ctx = testContext('in', 'source');
  const stream = Readable.from([Buffer.from('one\r\ntw'), Buffer.from('o\n'), Buffer.from([0x62, 0xff, 0x0a]), Buffer.from('a very long line\nlast')]);
  const source = createStdin(config, ctx, { stream });
  const batches: Batch[] = [];
  await source.run((b) => {
    batches.push(b);
    b.ack.done();
    return Promise.resolve();
  }, new AbortController().signal);
  const entries = batches.flatMap((b) => b.entries);
  assert.deepEqual(entries.map((e) => e.message), ['one', 'two', 'b\ufffd', 'a very l', 'last']);
  assert.match(entries[0]?.id ?? '', /^stdin:\d+:0$/);
  assert.equal(entries[1]?.id.endsWith(':5'), true);
  assert.equal(entries[0]?.source, 'stdin');
  assert.deepEqual(entries[2]?.fields, { invalid_utf8: true });
  assert.deepEqual(entries[3]?.fields, { truncated: true, original_bytes: 16 });
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_errors_total', { error: 'truncated' }), 1);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_in_total', { component: 'in' }), 5);
});

test('stops when the signal aborts, even while no input arrives', async () => {
  const stream = new PassThrough();
  const source = createStdin(config, testContext('in', 'source'), { stream });
  const controller = new AbortController();
  const got: string[] = [];
  const running = source.run((b) => {
    got.push(...b.entries.map((e) => e.message));
    return Promise.resolve();
  }, controller.signal);
  stream.write('x\n');
  while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await running;
  assert.deepEqual(got, ['x']);
  stream.destroy();
});

test('the default factory builds a source from config', () => {
  const source = stdin.create(config, testContext('in', 'source'));
  assert.equal(typeof source.run, 'function');
});

test('a source that replaces another on the same stream (a reload) goes on where it stopped: no chunk or partial line lost', async () => {
  const stream = new PassThrough();
  const got: Array<{ message: string; id: string }> = [];
  const emit = (b: Batch): Promise<void> => {
    got.push(...b.entries.map((e) => ({ message: e.message, id: e.id })));
    b.ack.done();
    return Promise.resolve();
  };
  const until = async (n: number): Promise<void> => {
    while (got.length < n) await new Promise((r) => setTimeout(r, 5));
  };
  const first = new AbortController();
  const running = createStdin(config, testContext('in', 'source'), { stream }).run(emit, first.signal);
  stream.write('one\ntw');
  await until(1);
  first.abort();
  await running;
  // Written while no source runs: the first source's pending read takes it, and hands it on.
  stream.write('o\nthree\n');
  await new Promise((r) => setTimeout(r, 20));
  const second = createStdin(config, testContext('in', 'source'), { stream }).run(emit, new AbortController().signal);
  stream.end('four\n');
  await second;
  assert.deepEqual(got.map((e) => e.message), ['one', 'two', 'three', 'four']);
  assert.deepEqual(got.map((e) => Number(e.id.split(':').at(-1))), [0, 4, 8, 14]);
});
