import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpsError } from '../../core/errors.ts';
import { validate } from '../../core/config.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import { fnv1a32, sample } from './sample.ts';

function make(config: Record<string, unknown>) {
  const ctx = testContext('s');
  return { ctx, t: sample.create(validate(sample.schema, { type: 'sample', inputs: ['app'], ...config }), ctx) };
}

test('fnv1a32 matches the reference values', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('sample without a key keeps every Nth entry across batches and tags it', async () => {
  const { ctx, t } = make({ rate: 3 });
  const first = await t.process(Array.from({ length: 4 }, (_, i) => entry(`m${i}`, { fields: { a: 1 } })));
  const second = await t.process(Array.from({ length: 5 }, (_, i) => entry(`n${i}`)));
  assert.deepEqual([...first, ...second].map((e) => e.message), ['m0', 'm3', 'n2']);
  assert.deepEqual(first[0]?.fields, { a: 1, sample_rate: 3 });
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 's', reason: 'sample' }), 6);
});

test('sample with a key keeps or drops every entry of a key together', async () => {
  const { t } = make({ rate: 4, key_field: 'fields.trace' });
  const traces = Array.from({ length: 200 }, (_, i) => `trace-${i}`);
  const batch = traces.flatMap((trace) => [entry('a', { fields: { trace } }), entry('b', { fields: { trace } })]);
  const kept = await t.process(batch);
  const keptTraces = new Set(kept.map((e) => e.fields.trace));
  for (const trace of traces) {
    assert.equal(keptTraces.has(trace), fnv1a32(trace) % 4 === 0, trace);
    assert.equal(kept.filter((e) => e.fields.trace === trace).length, keptTraces.has(trace) ? 2 : 0);
  }
  assert.ok(keptTraces.size > 20 && keptTraces.size < 80, `kept ${keptTraces.size} of 200 traces`);
});

test('sample falls back to the counter for entries without the key; rate 1 keeps all', async () => {
  const { t } = make({ rate: 2, key_field: 'fields.trace' });
  assert.deepEqual((await t.process([entry('x'), entry('y'), entry('z')])).map((e) => e.message), ['x', 'z']);
  const all = make({ rate: 1 }).t;
  assert.equal((await all.process([entry('x'), entry('y')])).length, 2);
});

test('a rate below 1 is a config error', () => {
  assert.throws(() => make({ rate: 0 }), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
});
