// Benchmark: the http and tcp sink writers pushing small entries in batches, one batch in flight as
// the sink runner sends them, to a receiver in a child process that counts the lines it gets.
// Run: node_modules/.bin/node bench/ship/writers.ts [entries] [batch] [rounds]   (not a test; prints the
// best of `rounds` (default 3) runs of each case, in lines/s)
import { fork } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { silentLogger } from '../../src/core/log.ts';
import { createRegistry } from '../../src/core/metrics.ts';
import { ShipMetrics } from '../../src/ship/metrics.ts';
import { http } from '../../src/ship/sinks/http.ts';
import { tcp } from '../../src/ship/sinks/tcp.ts';
import type { MeasuredWriter } from '../../src/ship/sinks/writer.ts';
import type { ComponentContext, LogEntry } from '../../src/ship/types.ts';

type Mode = 'http' | 'tcp';

/** Child: a receiver counting lines (or JSON array items), reporting its port, then each count it is asked for. */
function receive(mode: Mode): void {
  let lines = 0;
  const count = (buf: Buffer): void => { for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++; };
  const server: Server = mode === 'http'
    ? createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (req.headers['content-type'] === 'application/json') lines += (JSON.parse(body.toString('utf8')) as unknown[]).length;
        else count(body);
        res.writeHead(200).end();
      });
    })
    : createTcpServer((socket) => { socket.on('data', count); socket.on('error', () => undefined); });
  server.listen(0, '127.0.0.1', () => { process.send?.({ port: (server.address() as AddressInfo).port }); });
  process.on('message', (msg: { want: number }) => {
    const check = (): void => { if (lines >= msg.want) { process.send?.({ lines }); lines = 0; } else setTimeout(check, 1); };
    check();
  });
  process.on('disconnect', () => { server.close(); process.exit(0); });
}

function context(): ComponentContext {
  const registry = createRegistry({ runtime: false });
  const metrics = new ShipMetrics(registry);
  return { name: 'bench', log: silentLogger(), counters: metrics.component('sink', 'bench'), metrics, dataDir: '/tmp', configDir: '/tmp', deadLetter: { write: () => undefined } };
}

/** One run of one case; its duration in seconds and the body bytes delivered. */
async function run(mode: Mode, config: Record<string, unknown>, batches: LogEntry[][], total: number): Promise<{ seconds: number; bytes: number }> {
  const child = fork(import.meta.filename, ['--receiver', mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<{ port?: number; lines?: number }> => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const ctx = context();
  const writer: MeasuredWriter = mode === 'http'
    ? http.create(http.schema.parse({ type: 'http', url: `http://127.0.0.1:${port}/`, ...config }), ctx)
    : tcp.create(tcp.schema.parse({ type: 'tcp', address: `127.0.0.1:${port}`, ...config }), ctx);
  const signal = new AbortController().signal;
  let bytes = 0;
  const start = performance.now();
  for (const batch of batches) {
    await writer.write(batch, signal);
    bytes += writer.lastBytes ?? 0;
  }
  const received = next();
  child.send({ want: total });
  await received;
  const seconds = (performance.now() - start) / 1000;
  await writer.close?.();
  child.disconnect();
  return { seconds, bytes };
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 1_000_000);
  const size = Number(process.argv[3] ?? 1000);
  const batches: LogEntry[][] = [];
  for (let i = 0; i < total; i += size) {
    batches.push(Array.from({ length: Math.min(size, total - i) }, (_, j) => ({
      id: `bench:${(i + j) * 80}`, timestamp: '2026-11-22T10:00:00.000Z', source: '/var/log/app.log', level: 'info',
      message: `GET /api/v1/items/${i + j} 200 ${(i + j) % 997}ms`, fields: {},
    })));
  }
  const rounds = Number(process.argv[4] ?? 3);
  console.log(`${total} entries in batches of ${size}, best of ${rounds}, node ${process.version}`);
  const cases: Array<[string, Mode, Record<string, unknown>]> = [
    ['http ndjson', 'http', {}],
    ['http json array', 'http', { encoding: 'json' }],
    ['http gzip level 1', 'http', { compression: 'gzip', compression_level: 1 }],
    ['http gzip level 6', 'http', { compression: 'gzip', compression_level: 6 }],
    ['tcp json', 'tcp', {}],
    ['tcp text', 'tcp', { encoding: 'text' }],
  ];
  const best = new Map<string, { seconds: number; bytes: number }>();
  // Rounds interleave the cases, so machine noise hits them alike.
  for (let r = 0; r < rounds; r++) {
    for (const [label, mode, config] of cases) {
      const result = await run(mode, config, batches, total);
      if (result.seconds < (best.get(label)?.seconds ?? Infinity)) best.set(label, result);
    }
  }
  for (const [label, { seconds, bytes }] of best) {
    console.log(`${label.padEnd(18)} ${Math.round(total / seconds).toLocaleString('en-US').padStart(10)} lines/s ${(bytes / seconds / 1e6).toFixed(1).padStart(6)} MB/s ${seconds.toFixed(2)} s`);
  }
}

if (process.argv[2] === '--receiver') receive(process.argv[3] === 'tcp' ? 'tcp' : 'http');
else await main();
