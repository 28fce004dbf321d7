import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isOpsError } from '../../core/errors.ts';
import { loadConfig, validate } from '../../core/config.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import { filter } from './filter.ts';

function make(condition: string) {
  const ctx = testContext('errors');
  return { ctx, t: filter.create(validate(filter.schema, { type: 'filter', inputs: ['app'], condition }), ctx) };
}

test('filter keeps matching entries and counts the others as dropped', async () => {
  const { ctx, t } = make("level in ['error', 'fatal'] || fields.status >= 500");
  const out = await t.process([
    entry('a', { level: 'error' }), entry('b', { level: 'info' }), entry('c', { fields: { status: '503' } }), entry('d', { fields: { status: 200 } }),
  ]);
  assert.deepEqual(out.map((e) => e.message), ['a', 'c']);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'errors', reason: 'filter' }), 2);
});

test('filter matches messages with ~ regular expressions, case-insensitive parts too', async () => {
  const { t } = make(String.raw`message ~ '(?i:timeout)' && message !~ '^debug' && source ~ '\.log$'`);
  const out = await t.process([entry('upstream Timeout after 3s'), entry('all good'), entry('debug: timeout'), entry('timeout', { source: 'stdin' })]);
  assert.deepEqual(out.map((e) => e.message), ['upstream Timeout after 3s']);
});

test('filter never throws on odd field values', async () => {
  const { t } = make('fields.a.b == 1 || fields.n > 3');
  const odd = [entry('x', { fields: { a: null, n: 'abc' } }), entry('y', { fields: { a: [1], n: { deep: 1 } } }), entry('z', { fields: { a: { b: '1' } } })];
  assert.deepEqual((await t.process(odd)).map((e) => e.message), ['z']);
});

test('a bad condition is a config error naming the file, line and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-filter-'));
  try {
    const file = join(dir, 'ship.toml');
    writeFileSync(file, '[transforms.errors]\ntype = "filter"\ninputs = ["app"]\ncondition = "levle == \'error\'"\n');
    const schema = z.strictObject({ transforms: z.strictObject({ errors: filter.schema }) });
    assert.throws(() => loadConfig({ schema, file }), (err: unknown) => {
      assert.ok(isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
      assert.match(err.message, new RegExp(`${file.replaceAll('.', '\\.')}:4: key "transforms\\.errors\\.condition": unknown field "levle"`));
      assert.match(err.message, /did you mean "level"/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a syntax error and an invalid regular expression are config errors', () => {
  for (const condition of ['level == ', "message ~ '('"]) {
    assert.throws(() => validate(filter.schema, { type: 'filter', inputs: ['app'], condition }), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
  }
});
