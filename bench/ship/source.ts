// Throughput of the file source alone: reads a generated 1M-line nginx log with an emit that acks at once.
// Run: node_modules/.bin/node bench/ship/source.ts [lines]   (prints lines/s and MB/s; not a test)
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { silentLogger } from '../../src/core/log.ts';
import { createRegistry } from '../../src/core/metrics.ts';
import { ShipMetrics } from '../../src/ship/metrics.ts';
import { file } from '../../src/ship/sources/file.ts';
import type { ComponentContext } from '../../src/ship/types.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-source-'));
const path = join(dir, 'access.log');

async function writeLog(): Promise<void> {
  const out = createWriteStream(path);
  const paths = ['/api/v1/users', '/index.html', '/static/app.js', '/api/v2/orders?page=2'];
  for (let i = 0; i < total; i++) {
    const line = `10.0.${(i >> 8) & 255}.${i & 255} - - [22/Nov/2026:10:00:${String(i % 60).padStart(2, '0')} +0000] "GET ${paths[i % 4]} HTTP/1.1" ${[200, 304, 404, 500][i % 4]} ${1000 + (i % 9000)} "-" "https://example.com/some/referring/page" "Mozilla/5.0 (X11; Linux x86_64) bench/1.0"\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

await writeLog();
const bytes = statSync(path).size;
const metrics = new ShipMetrics(createRegistry({ runtime: false }));
const ctx: ComponentContext = {
  name: 'bench', log: silentLogger(), counters: metrics.component('source', 'bench'), metrics, dataDir: dir, configDir: dir,
  deadLetter: { write: () => undefined },
};
const source = file.create(file.schema.parse({ type: 'file', include: [path] }), ctx);
const controller = new AbortController();
let lines = 0;
const started = process.hrtime.bigint();
let finished = started;
await source.run(async (batch) => {
  lines += batch.entries.length;
  batch.ack.done();
  if (lines >= total) {
    finished = process.hrtime.bigint();
    controller.abort();
  }
  return Promise.resolve();
}, controller.signal);
await source.close?.();
const seconds = Number(finished - started) / 1e9;
console.log(`${lines} lines, ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(2)} s: ${Math.round(lines / seconds)} lines/s, ${(bytes / 1e6 / seconds).toFixed(0)} MB/s`);
rmSync(dir, { recursive: true, force: true });
