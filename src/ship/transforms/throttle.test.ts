import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpsError } from '../../core/errors.ts';
import { validate } from '../../core/config.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import { throttle } from './throttle.ts';

function make(config: Record<string, unknown>) {
  const ctx = testContext('th');
  return { ctx, t: throttle.create(validate(throttle.schema, { type: 'throttle', inputs: ['app'], ...config }), ctx) };
}

const batch = (n: number, host?: string) => Array.from({ length: n }, (_, i) => entry(`${host ?? '-'}${i}`, host === undefined ? {} : { fields: { host } }));

test('throttle lets threshold entries through per window', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 5_000 });
  const { ctx, t: th } = make({ threshold: 3, window: '10s' });
  assert.equal((await th.process(batch(2))).length, 2);
  assert.deepEqual((await th.process(batch(4))).map((e) => e.message), ['-0']);
  t.mock.timers.tick(9_999);
  assert.equal((await th.process(batch(2))).length, 0);
  t.mock.timers.tick(1);
  assert.equal((await th.process(batch(5))).length, 3);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'th', reason: 'throttled' }), 7);
});

test('throttle keeps a budget per key, entries without the key sharing one', async () => {
  const { t } = make({ threshold: 2, key_field: 'fields.host' });
  const out = await t.process([...batch(3, 'a'), ...batch(3, 'b'), ...batch(3)]);
  assert.deepEqual(out.map((e) => e.message), ['a0', 'a1', 'b0', 'b1', '-0', '-1']);
});

test('throttle forgets the oldest key past max_keys', async () => {
  const { t } = make({ threshold: 1, key_field: 'fields.host', max_keys: 2 });
  await t.process([...batch(1, 'a'), ...batch(1, 'b'), ...batch(1, 'c')]); // a is evicted
  assert.deepEqual((await t.process([...batch(1, 'a'), ...batch(1, 'c')])).map((e) => e.message), ['a0']);
});

test('a threshold of 0 is a config error', () => {
  assert.throws(() => make({ threshold: 0 }), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
});
