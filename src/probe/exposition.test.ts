import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatValue, labelString, renderSamples, resultSamples } from './exposition.ts';
import type { RunProbeResult } from './run-probe.ts';
import type { ScheduledTarget } from './service-config.ts';
import { TargetMetrics } from './target-metrics.ts';
import { fakeProber } from './testdata/fake-prober.ts';
import type { Prober } from './types.ts';

const result = (success: boolean, status = 200): RunProbeResult => ({
  target: 'http://x.test/', module: 'web', success, durationMs: 1500, startedAt: 0, phases: {}, details: { status },
});

test('label values are escaped and special values spelled as Prometheus does', () => {
  assert.equal(labelString({ a: 'plain', b: 'say "hi"\\now\nthen' }), 'a="plain",b="say \\"hi\\"\\\\now\\nthen"');
  assert.deepEqual([NaN, Infinity, -Infinity, 0.25, 1e-7].map(formatValue), ['NaN', '+Inf', '-Inf', '0.25', '1e-7']);
});

test('a result gives probe_success and probe_duration_seconds, then the prober samples that are valid', () => {
  const prober: Prober = {
    ...fakeProber(),
    metrics: () => [
      { name: 'probe_ok', help: 'ok', type: 'gauge', value: 1 },
      { name: 'bad name', help: 'dropped', type: 'gauge', value: 1 },
      { name: 'probe_bad_label', help: 'dropped', type: 'gauge', labels: { __reserved: 'x' }, value: 1 },
    ],
  };
  assert.deepEqual(resultSamples(result(true), prober).map((s) => [s.name, s.value]), [['probe_success', 1], ['probe_duration_seconds', 1.5], ['probe_ok', 1]]);
  const throwing: Prober = { ...prober, metrics: () => { throw new Error('bug'); } };
  assert.equal(resultSamples(result(false), throwing).length, 2, 'a prober bug costs its own samples only');
});

test('renderSamples: families sorted, one HELP each, a repeated series kept once', () => {
  const text = renderSamples([
    { name: 'probe_b', help: 'B', type: 'gauge', labels: { phase: 'x' }, value: 1 },
    { name: 'probe_a', help: 'A\nline', type: 'counter', value: 2 },
    { name: 'probe_b', help: 'B again', type: 'gauge', labels: { phase: 'x' }, value: 3 },
    { name: 'probe_b', help: 'B', type: 'gauge', labels: { phase: 'y' }, value: 4 },
  ]);
  assert.equal(text, '# HELP probe_a A\\nline\n# TYPE probe_a counter\nprobe_a 2\n# HELP probe_b B\n# TYPE probe_b gauge\nprobe_b{phase="x"} 1\nprobe_b{phase="y"} 4\n');
});

test('target series: fixed labels first and unbeatable, a prober label over a user label; taken names left out', () => {
  const metrics = new TargetMetrics();
  const target: ScheduledTarget = { name: 'api', target: 'http://x.test/', module: 'web', interval: 1000, timeout: 1000, jitter: 0, labels: { team: 'core', phase: 'user' } };
  metrics.setTargets([target]);
  const before = metrics.render();
  assert.match(before, /^opsctl_probe_results_total\{name="api",target="http:\/\/x\.test\/",module="web",result="success"\} 0$/m);
  assert.match(before, /^# TYPE probe_success gauge\n# HELP/m, 'a family with no result yet is just its HELP and TYPE');
  metrics.record(target, result(true), [
    ...resultSamples(result(true), fakeProber()),
    { name: 'probe_sneaky', help: 'Tries to change identity.', type: 'gauge', labels: { name: 'other', target: 'other' }, value: 1 },
  ]);
  const text = metrics.render();
  assert.match(text, /^probe_success\{name="api",target="http:\/\/x\.test\/",module="web",team="core",phase="user"\} 1$/m);
  assert.match(text, /^probe_fake_status\{name="api",target="http:\/\/x\.test\/",module="web",team="core",phase="final"\} 200$/m);
  assert.match(text, /^probe_sneaky\{name="api",target="http:\/\/x\.test\/",module="web",team="core",phase="user"\} 1$/m);
  assert.match(text, /result="success"\} 1$/m);
  assert.equal(metrics.render(), text, 'cached until something changes');
  assert.doesNotMatch(metrics.render((name) => name === 'probe_fake_status'), /probe_fake_status/);

  metrics.record({ ...target }, result(false), []);
  assert.match(metrics.render(), /result="failure"\} 0$/m, 'a result for a target object no longer scheduled is ignored');
  metrics.setTargets([{ ...target, target: 'http://y.test/' }]);
  assert.doesNotMatch(metrics.render(), /x\.test/, 'a changed target starts afresh');
});
