import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { compile } from '../core/expr.ts';
import { palette } from '../core/tty.ts';
import { formatMs, formatResult, probeOnce, resultJson, type OneShotResult } from './one-shot.ts';
import { parseTarget } from './target-url.ts';
import { fakeProber, takes } from './testdata/fake-prober.ts';

test('results come in input order, however they finish, at most `concurrency` at a time', async () => {
  const delays = [60, 10, 30, 5, 20];
  const fake = fakeProber((ctx) => takes(delays[Number(/\/(\d)$/.exec(ctx.target)?.[1])] ?? 0)(ctx));
  const targets = delays.map((_, i) => parseTarget(`http://x.test/${i}`));
  const seen: string[] = [];
  const results = await probeOnce(targets, { timeoutMs: 1000, conditions: [], concurrency: 2, debug: false, probers: { http: fake } }, (r) => { seen.push(r.input); });
  assert.deepEqual(seen, targets.map((t) => t.input));
  assert.deepEqual(results.map((r) => r.input), seen);
  assert.equal(fake.maxRunning, 2);
  assert.ok(results.every((r) => r.success && r.prober === 'http'));
});

test('conditions, the timeout and the debug log reach every probe', async () => {
  const fake = fakeProber();
  const [ok, bad] = await probeOnce([parseTarget('http://x.test/200'), parseTarget('http://x.test/503')], {
    timeoutMs: 1234, conditions: [compile('status == 200')], concurrency: 5, debug: true, probers: { http: fake },
  });
  assert.equal(ok?.success, true);
  assert.equal(bad?.success, false);
  assert.equal(bad?.reason, 'condition failed: status == 200');
  assert.ok(bad?.log?.some((l) => /debug fake probe/.test(l)));
  assert.deepEqual(fake.calls.map((c) => c.timeoutMs), [1234, 1234]);
});

test("a target whose settings its prober rejects is a usage error before anything runs", async () => {
  const fake = fakeProber();
  await assert.rejects(
    probeOnce([parseTarget('http://x.test/'), parseTarget('dns://127.0.0.1/example.test?type=BOGUS')], { timeoutMs: 1000, conditions: [], concurrency: 1, debug: false, probers: { http: fake } }),
    (err: unknown) => isOpsError(err, 'OPS_ERR_USAGE') && /target "dns:\/\/127\.0\.0\.1\/example\.test\?type=BOGUS": key "query_type"/.test(err.message),
  );
  assert.equal(fake.calls.length, 0);
});

test('a line per target: mark, padded target, duration, reason; the log of a failure when verbose', () => {
  const base = { prober: 'http', target: 'http://x.test/', module: 'http', phases: {}, details: {}, startedAt: 0 };
  const ok: OneShotResult = { ...base, input: 'http://x.test/', success: true, durationMs: 12.3 };
  const bad: OneShotResult = { ...base, input: 'tcp://db:5432', success: false, reason: 'connection refused', durationMs: 5000, log: ['+0.0001s debug dialing'] };
  const plain = palette(false);
  assert.equal(formatResult(ok, 16, plain, false), '✓ http://x.test/       12ms\n');
  assert.equal(formatResult(bad, 16, plain, false), '✗ tcp://db:5432       5.00s  connection refused\n');
  assert.equal(formatResult(bad, 16, plain, true), '✗ tcp://db:5432       5.00s  connection refused\n    +0.0001s debug dialing\n');
  assert.match(formatResult(ok, 16, palette(true), false), /^\x1b\[32m✓\x1b\[39m /);
  assert.deepEqual([formatMs(0.42), formatMs(9.96), formatMs(999.4), formatMs(1234)], ['0.4ms', '10.0ms', '999ms', '1.23s']);
  assert.deepEqual(Object.keys(resultJson(bad)).slice(0, 4), ['target', 'prober', 'probed', 'success']);
  assert.equal(resultJson(bad).target, 'tcp://db:5432');
});
