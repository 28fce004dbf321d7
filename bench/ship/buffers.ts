// Throughput of the sink buffers: 1M entries pushed in groups of 500 while a consumer takes and
// commits batches of 1000. Run: node_modules/.bin/node bench/ship/buffers.ts [entries] [group]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Ack } from '../../src/ship/ack.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createRegistry } from '../../src/core/metrics.ts';
import { createBuffer } from '../../src/ship/buffer/index.ts';
import { bufferSchema } from '../../src/ship/schema.ts';
import { ShipMetrics } from '../../src/ship/metrics.ts';
import type { LogEntry } from '../../src/ship/types.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const group = Number(process.argv[3] ?? 500);

// A few distinct groups reused round-robin: realistic entries without holding a million objects.
const groups: LogEntry[][] = Array.from({ length: 16 }, (_, g) => Array.from({ length: group }, (_, i) => ({
  id: `8388863:1234567:${(g * group + i) * 120}`,
  timestamp: '2026-11-22T10:00:00.000Z',
  source: '/var/log/nginx/access.log',
  level: 'info',
  message: `203.0.113.${i % 250} - - [22/Nov/2026:10:00:00 +0000] "GET /api/v1/items/${g * group + i} HTTP/1.1" 200 512 "-" "curl/8.5"`,
  fields: { status: 200, path: `/api/v1/items/${i}` },
})));

async function run(type: 'memory' | 'disk'): Promise<void> {
  const dataDir = mkdtempSync(`${tmpdir()}/opsctl-bench-buffers-`);
  const metrics = new ShipMetrics(createRegistry({ runtime: false }));
  const buffer = await createBuffer(bufferSchema.parse({ type }), { sink: 'bench', dataDir, metrics, log: silentLogger() });
  let acked = 0;
  const start = process.hrtime.bigint();
  const producer = (async () => {
    for (let sent = 0, g = 0; sent < total; sent += group, g++) {
      const entries = groups[g % groups.length] as LogEntry[];
      await buffer.push(entries, new Ack(() => { acked += entries.length; }));
    }
    buffer.end();
  })();
  const signal = new AbortController().signal;
  let received = 0;
  let bytes = 0;
  for (;;) {
    const taken = await buffer.take(1000, 1 << 20, 1000, signal);
    if (taken === undefined) break;
    received += taken.entries.length;
    bytes += taken.bytes;
    await buffer.commit(taken);
  }
  await producer;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await buffer.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (received !== total || acked !== total) throw new Error(`${type}: received ${received}, acked ${acked} of ${total}`);
  console.log(`${type.padEnd(6)} ${total} entries in ${seconds.toFixed(2)} s: ${Math.round(total / seconds).toLocaleString('en')} entries/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s (entrySize)`);
}

console.log(`node ${process.version}, groups of ${group}, takes of up to 1000, default buffer config, data dir under ${tmpdir()}`);
await run('memory');
await run('disk');
