import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadEnds, graphProblems } from './graph.ts';

const sink = (inputs: string[], fallback?: string) => ({ inputs, fallback });

test('a well-wired graph with fan-in, fan-out and a fallback has no problems', () => {
  const problems = graphProblems({
    sources: { a: {}, b: {} },
    transforms: { parse: { inputs: ['a', 'b'] }, keep: { inputs: ['parse'] } },
    sinks: { http: sink(['keep', 'a'], 'spool'), spool: sink([]), console: sink(['parse']) },
  });
  assert.deepEqual(problems, []);
});

test('unknown inputs, sinks as inputs and self inputs are reported at their key', () => {
  const problems = graphProblems({
    sources: { a: {} },
    transforms: { t: { inputs: ['nope', 't'] } },
    sinks: { s: sink(['a']), u: sink(['s']) },
  });
  assert.deepEqual(problems.map((p) => p.path.join('.')), ['transforms.t.inputs.0', 'transforms.t.inputs.1', 'sinks.u.inputs.0']);
  assert.match(problems[0]?.message ?? '', /unknown input "nope" \(known: a, t\)/);
  assert.match(problems[2]?.message ?? '', /is a sink/);
});

test('a cycle in inputs is named from start to end', () => {
  const problems = graphProblems({
    sources: { a: {} },
    transforms: { x: { inputs: ['a', 'z'] }, y: { inputs: ['x'] }, z: { inputs: ['y'] } },
    sinks: { s: sink(['z']) },
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /cycle in inputs: x -> z -> y -> x/);
});

test('fallbacks must exist, differ from the sink and not loop; unused sinks are reported', () => {
  const problems = graphProblems({
    sources: { a: {} },
    transforms: {},
    sinks: { p: sink(['a'], 'p'), q: sink(['a'], 'missing'), r: sink(['a'], 's'), s: sink(['a'], 'r'), idle: sink([]) },
  });
  const text = problems.map((p) => `${p.path.join('.')}: ${p.message}`);
  assert.ok(text.some((t) => t.startsWith('sinks.p.fallback: a sink cannot be its own fallback')), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('sinks.q.fallback: unknown fallback sink "missing"')), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('sinks.r.fallback: fallback cycle: r -> s -> r')), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('sinks.idle.inputs: has no inputs')), text.join('\n'));
});

test('names are unique across kinds, and a pipeline needs a source and a sink', () => {
  const problems = graphProblems({ sources: { a: {} }, transforms: { a: { inputs: ['a'] } }, sinks: {} });
  const text = problems.map((p) => p.message).join('\n');
  assert.match(text, /"a" is also used in \[sources\]/);
  assert.match(text, /needs at least one sink/);
});

test('dead ends are the sources and transforms that feed no sink', () => {
  assert.deepEqual(deadEnds({
    sources: { a: {}, b: {} },
    transforms: { t: { inputs: ['a'] }, orphan: { inputs: ['b'] } },
    sinks: { s: sink(['t']) },
  }), ['b', 'orphan']);
});
