import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../../core/config.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import { dedupe } from './dedupe.ts';

function make(config: Record<string, unknown>) {
  const ctx = testContext('d');
  return { ctx, t: dedupe.create(validate(dedupe.schema, { type: 'dedupe', inputs: ['app'], ...config }), ctx) };
}

test('dedupe drops repeats of the message within the window', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { ctx, t: d } = make({ window: '1m' });
  assert.deepEqual((await d.process([entry('a'), entry('b'), entry('a')])).map((e) => e.message), ['a', 'b']);
  t.mock.timers.tick(59_000);
  assert.deepEqual((await d.process([entry('a'), entry('c')])).map((e) => e.message), ['c']);
  t.mock.timers.tick(1_000);
  assert.deepEqual((await d.process([entry('a'), entry('a')])).map((e) => e.message), ['a']);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'd', reason: 'duplicate' }), 3);
});

test('dedupe identifies entries by the chosen fields, missing ones included', async () => {
  const { t } = make({ fields: ['source', 'fields.code'] });
  const out = await t.process([
    entry('1', { fields: { code: 5 } }), entry('2', { fields: { code: 5 } }), entry('3', { fields: { code: '5' } }),
    entry('4', { source: 'other', fields: { code: 5 } }), entry('5'), entry('6'),
  ]);
  assert.deepEqual(out.map((e) => e.message), ['1', '3', '4', '5']);
});

test('dedupe forgets the least recently seen identity past cache_size', async () => {
  const { t } = make({ cache_size: 2 });
  await t.process([entry('a'), entry('b'), entry('a'), entry('c')]); // b is the least recently seen
  assert.deepEqual((await t.process([entry('a'), entry('b')])).map((e) => e.message), ['b']);
});

test('dedupe keeps entries whose identity cannot be serialised', async () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const { t } = make({ fields: ['fields.x'] });
  assert.equal((await t.process([entry('a', { fields: { x: cyclic } }), entry('b', { fields: { x: cyclic } })])).length, 2);
});
