// Benchmark of the parse transform's nginx format over generated "combined" lines: the bare parser
// and the whole transform (batches of 1000), each the best of 3 rounds. Run: node_modules/.bin/node bench/ship/parse.ts [lines]
import { parsers } from '../../src/ship/parsers/index.ts';
import { testContext, entry } from '../../src/ship/testing.ts';
import { parse } from '../../src/ship/transforms/parse.ts';
import type { LogEntry } from '../../src/ship/types.ts';

const n = Number(process.argv[2] ?? 1e6);
const paths = ['/api/v1/users?id=42&page=3', '/health', '/static/js/app.3f9c2b.min.js', '/api/v2/orders/8812/items', '/wp-login.php'];
const agents = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'curl/8.5.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Go-http-client/1.1',
];
const statuses = [200, 200, 200, 304, 404, 500, 301];
// A busy server: 20 lines per second of log time, so the time of consecutive lines often repeats.
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (v: number): string => String(v).padStart(2, '0');
function timeLocal(i: number): string {
  const d = new Date(Date.UTC(2026, 10, 22) + Math.floor(i / 20) * 1000);
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()] ?? ''}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
const lines = Array.from({ length: n }, (_, i) => {
  const ip = i % 10 === 0 ? `2001:db8::${(i % 65536).toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return `${ip} - ${i % 7 === 0 ? 'alice' : '-'} [${timeLocal(i)}] ` +
    `"${i % 9 === 0 ? 'POST' : 'GET'} ${paths[i % paths.length] ?? '/'} HTTP/1.1" ${statuses[i % statuses.length] ?? 200} ${(i * 7919) % 50_000} ` +
    `"${i % 3 === 0 ? '-' : 'https://example.com/start?ref=bench'}" "${agents[i % agents.length] ?? ''}"`;
});
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
