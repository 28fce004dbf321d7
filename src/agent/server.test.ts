// The agent's /metrics endpoint: collectors plus the registry, gzip on request, readiness.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { Scraper } from './scrape.ts';
import { createAgentServer } from './server.ts';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

test('/metrics serves collector families and the registry, gzipped when asked', async (t) => {
  let calls = 0;
  const scraper = new Scraper({
    log: silentLogger(),
    collectors: new Map([['one', { collect: () => [{ name: 'node_one', help: 'one', type: 'gauge' as const, samples: [{ value: ++calls }] }] }]]),
  });
  const app = createAgentServer({ scraper, registry: createRegistry({ runtime: false }), log: silentLogger() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as { port: number };

  const plain = await get(port, '/metrics');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const text = plain.body.toString();
  assert.match(text, /^node_one 1$/m);
  assert.match(text, /^node_scrape_collector_success\{collector="one"\} 1$/m);
  assert.match(text, /^opsctl_build_info\{/m);

  const zipped = await get(port, '/metrics', { 'accept-encoding': 'gzip, deflate' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(zipped.body).toString(), /^node_one 2$/m, 'each scrape collects afresh');

  const health = await get(port, '/healthz', { 'accept-encoding': 'gzip' });
  assert.equal(health.headers['content-encoding'], undefined);
  assert.equal(health.body.toString(), 'ok\n');
});
