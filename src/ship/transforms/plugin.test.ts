import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { isOpsError } from '../../core/errors.ts';
import { validate } from '../../core/config.ts';
import { entry, metricValue, testContext, type TestContext } from '../testing.ts';
import type { Transform } from '../types.ts';
import { plugin } from './plugin.ts';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));

async function make(config: Record<string, unknown>): Promise<{ ctx: TestContext; t: Transform }> {
  const ctx = testContext('plug', 'transform', { configDir: testdata });
  const t = await plugin.create(validate(plugin.schema, { type: 'plugin', inputs: ['app'], ...config }), ctx);
  return { ctx, t };
}

async function using(config: Record<string, unknown>, body: (ctx: TestContext, t: Transform) => Promise<void>): Promise<void> {
  const { ctx, t } = await make(config);
  try {
    await body(ctx, t);
  } finally {
    await t.close?.();
  }
}

const errors = (ctx: TestContext, error: string) => metricValue(ctx.registry, 'opsctl_ship_errors_total', { component: 'plug', error });
const dropped = (ctx: TestContext, reason: string) => metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'plug', reason });

for (const isolation of ['worker', 'inline']) {
  test(`plugin (${isolation}) runs a TypeScript module over each entry`, async () => {
    await using({ path: 'upper.ts', isolation }, async (_ctx, t) => {
      const input = entry('hello', { level: 'info', fields: { a: 1 } });
      assert.deepEqual(await t.process([input]), [{ ...input, message: 'HELLO', fields: { a: 1, plugin: 'upper' } }]);
      assert.deepEqual(await t.process([]), []);
    });
  });

  test(`plugin (${isolation}) awaits async transforms`, async () => {
    await using({ path: 'async.ts', isolation }, async (_ctx, t) => {
      const out = await t.process([entry('a'), entry('b')]);
      assert.deepEqual(out.map((e) => [e.message, e.fields.async]), [['a', true], ['b', true]]);
    });
  });

  test(`plugin (${isolation}) expands arrays, fills missing keys and drops null, undefined and []`, async () => {
    await using({ path: 'split.js', isolation }, async (ctx, t) => {
      const input = entry('two words', { level: 'warn', fields: { k: 'v' } });
      const out = await t.process([input, entry('drop'), entry('none'), entry('undef')]);
      assert.deepEqual(out, ['two', 'words'].map((message) => ({ ...input, message })));
      assert.equal(await dropped(ctx, 'plugin'), 3);
    });
  });

  test(`plugin (${isolation}) isolates a throwing plugin: pass keeps the input with plugin_error`, async () => {
    await using({ path: 'throws.js', isolation }, async (ctx, t) => {
      const bad = entry('bad one', { fields: { x: 1 } });
      const out = await t.process([entry('good'), bad, entry('fine')]);
      assert.deepEqual(out.map((e) => e.message), ['good', 'bad one', 'fine']);
      assert.deepEqual(out[1], { ...bad, fields: { x: 1, plugin_error: 'Error: cannot handle this one' } });
      assert.deepEqual(bad.fields, { x: 1 });
      assert.equal(await errors(ctx, 'plugin'), 1);
    });
  });

  test(`plugin (${isolation}) treats outputs that are not entries as errors`, async () => {
    await using({ path: 'bad_output.js', isolation, on_error: 'drop' }, async (ctx, t) => {
      const out = await t.process(['number', 'string', 'fields', 'function', 'level', 'ok'].map((m) => entry(m, { level: 'info' })));
      // A function cannot leave a worker (an error there); inline it is kept, and encoders skip it.
      const inlineOnly = isolation === 'inline' ? [['x', 'info']] : [];
      assert.deepEqual(out.map((e) => [e.message, e.level]), [...inlineOnly, ['x', 'unknown'], ['OK', 'error']]);
      assert.equal(await errors(ctx, 'plugin_output'), 3);
      assert.equal(await errors(ctx, 'plugin') ?? 0, isolation === 'worker' ? 1 : 0);
      assert.equal(await dropped(ctx, 'plugin_error'), isolation === 'worker' ? 4 : 3);
    });
  });

  test(`plugin (${isolation}) gives the plugin copies, never the shipper's entries`, async () => {
    await using({ path: 'mutate.js', isolation }, async (_ctx, t) => {
      const input = entry('original', { fields: { a: 1 } });
      const [out] = await t.process([input]);
      assert.deepEqual(out?.fields, { a: 1, touched: true });
      assert.equal(out?.message, 'changed');
      assert.deepEqual([input.message, input.fields], ['original', { a: 1 }]);
    });
  });
}

test('plugin (worker) survives a plugin that loops forever: the batch times out, the next one works', async () => {
  await using({ path: 'loop.js', timeout: '300ms', on_error: 'dead_letter' }, async (ctx, t) => {
    const looping = await t.process([entry('first'), entry('loop')]);
    assert.deepEqual(looping, []);
    assert.deepEqual(ctx.deadLetter.written.map((w) => [w.entry.message, w.reason, w.component]), [['first', 'plugin_timeout', 'plug'], ['loop', 'plugin_timeout', 'plug']]);
    assert.equal(await errors(ctx, 'plugin_timeout'), 2);
    assert.equal(await dropped(ctx, 'dead_letter'), 2);
    assert.deepEqual((await t.process([entry('after')])).map((e) => e.message), ['after']);
    assert.deepEqual((await t.process([entry('loop')])).map((e) => e.fields.plugin_error), []);
    assert.deepEqual((await t.process([entry('again')])).map((e) => e.message), ['again']);
  });
});

test('plugin (worker) restarts a worker that exits', async () => {
  await using({ path: 'exit.js' }, async (ctx, t) => {
    const out = await t.process([entry('exit'), entry('other')]);
    assert.deepEqual(out.map((e) => [e.message, typeof e.fields.plugin_error]), [['exit', 'string'], ['other', 'string']]);
    assert.match(String(out[0]?.fields.plugin_error), /exited/);
    assert.equal(await errors(ctx, 'plugin'), 2);
    assert.deepEqual((await t.process([entry('next')])).map((e) => [e.message, e.fields.plugin_error]), [['next', undefined]]);
  });
});

test('plugin (inline) times out a promise that never settles', async () => {
  await using({ path: 'hang.js', isolation: 'inline', timeout: '100ms' }, async (ctx, t) => {
    const out = await t.process([entry('hang')]);
    assert.match(String(out[0]?.fields.plugin_error), /longer than 100ms/);
    assert.equal(await errors(ctx, 'plugin_timeout'), 1);
    assert.deepEqual((await t.process([entry('next')])).map((e) => e.message), ['next']);
  });
});

test('plugin on_error drop and dead_letter', async () => {
  await using({ path: 'throws.js', on_error: 'drop' }, async (ctx, t) => {
    assert.deepEqual((await t.process([entry('bad'), entry('ok')])).map((e) => e.message), ['ok']);
    assert.equal(await dropped(ctx, 'plugin_error'), 1);
    assert.equal(ctx.deadLetter.written.length, 0);
  });
  await using({ path: 'throws.js', on_error: 'dead_letter' }, async (ctx, t) => {
    assert.deepEqual((await t.process([entry('bad'), entry('ok')])).map((e) => e.message), ['ok']);
    assert.deepEqual(ctx.deadLetter.written.map((w) => [w.entry.message, w.reason]), [['bad', 'plugin']]);
  });
});

test('a plugin that cannot be loaded is a config error naming its path', async () => {
  for (const isolation of ['worker', 'inline']) {
    for (const [path, reason] of [['missing.js', /Cannot find module|ERR_MODULE_NOT_FOUND/], ['no_export.js', /no "transform" function export/], ['broken.js', /boom while loading/]] as const) {
      await assert.rejects(make({ path, isolation }), (err: unknown) => {
        assert.ok(isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
        assert.ok(err.message.includes(`${testdata}${path}`), err.message);
        assert.match(err.message, reason);
        return true;
      }, `${isolation} ${path}`);
    }
  }
});

test('plugin config keys are checked', () => {
  for (const config of [{ path: 'x.js', isolation: 'thread' }, { path: 'x.js', on_error: 'retry' }, { path: 'x.js', timeout: 'soon' }, { path: '' }]) {
    assert.throws(() => validate(plugin.schema, { type: 'plugin', inputs: ['app'], ...config }), (err: unknown) => isOpsError(err, 'OPS_ERR_CONFIG_INVALID'));
  }
});

test('plugin errors are logged at a bounded rate, with how many were not', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const ctx = testContext('plug', 'transform', { configDir: testdata, log });
  const tr = await plugin.create(validate(plugin.schema, { type: 'plugin', inputs: ['app'], path: 'throws.js', isolation: 'inline' }), ctx);
  await tr.process([entry('bad 1'), entry('bad 2'), entry('bad 3')]);
  assert.equal(lines.length, 1);
  t.mock.timers.tick(10_000);
  await tr.process([entry('bad 4')]);
  assert.deepEqual(lines.map((l) => [l.msg, l.error_kind, l.suppressed]), [['plugin error', 'plugin', 0], ['plugin error', 'plugin', 2]]);
  assert.equal(await errors(ctx, 'plugin'), 4);
});
