// Benchmark of the parse transform's nginx format over the "combined" lines of gen.ts: the bare parser
// and the whole transform (batches of 1000), each the best of 3 rounds. Run: node_modules/.bin/node bench/ship/parse.ts [lines]
import { parsers } from '../../src/ship/parsers/index.ts';
import { testContext, entry } from '../../src/ship/testing.ts';
import { parse } from '../../src/ship/transforms/parse.ts';
import type { LogEntry } from '../../src/ship/types.ts';
import { accessLines } from './gen.ts';

const n = Number(process.argv[2] ?? 1e6);
const lines = [...accessLines(n)];
const bytes = lines.reduce((sum, l) => sum + l.length + 1, 0);

function report(name: string, ms: number): void {
  console.log(`${name}: ${n} lines (${(bytes / 1e6).toFixed(0)} MB) in ${ms.toFixed(0)} ms = ${Math.round(n / (ms / 1000)).toLocaleString('en')} lines/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`);
}

const parser = parsers.nginx.create({});
let best = Infinity;
let failures = 0;
for (let round = 0; round < 3; round++) {
  const start = performance.now();
  for (const line of lines) if (typeof parser(line) === 'string') failures++;
  best = Math.min(best, performance.now() - start);
}
report('nginx parser (best of 3)', best);
if (failures > 0) console.log(`unexpected failures: ${failures}`);

const transform = parse.create(parse.schema.parse({ type: 'parse', inputs: ['files'], format: 'nginx' }), testContext('bench'));
const batches: LogEntry[][] = [];
for (let i = 0; i < n; i += 1000) batches.push(lines.slice(i, i + 1000).map((l) => entry(l)));
let bestTransform = Infinity;
for (let round = 0; round < 3; round++) {
  const start = performance.now();
  for (const batch of batches) await transform.process(batch);
  bestTransform = Math.min(bestTransform, performance.now() - start);
}
report('parse transform, with timestamps (batches of 1000, best of 3)', bestTransform);
