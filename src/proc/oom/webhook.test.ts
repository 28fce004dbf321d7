import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../core/log.ts';
import { Registry } from '../../core/metrics.ts';
import { oomMetrics } from './metrics.ts';
import { WebhookSender, type WebhookSenderOptions } from './webhook.ts';

interface Received { body: unknown; at: number }

/** A real HTTP receiver on 127.0.0.1:0 answering each request with `respond(n)` (n counts from 1). */
async function receiver(t: TestContext, respond: (n: number, res: ServerResponse) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => {
      received.push({ body: JSON.parse(text), at: performance.now() });
      respond(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=secret`, received };
}

function sender(url: string, options: Partial<WebhookSenderOptions> = {}): { hook: WebhookSender; registry: Registry } {
  const registry = new Registry();
  const hook = new WebhookSender({ url, log: silentLogger(), metrics: oomMetrics(registry), baseDelayMs: 20, random: () => 0, ...options });
  return { hook, registry };
}

async function value(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

test('retries 5xx with growing backoff, then delivers, in order', async (t) => {
  const { url, received } = await receiver(t, (n, res) => res.writeHead(n <= 2 ? 503 : 204).end());
  const { hook, registry } = sender(url);
  hook.send({ n: 1 });
  hook.send({ n: 2 });
  await hook.flush();
  assert.deepEqual(received.map((r) => r.body), [{ n: 1 }, { n: 1 }, { n: 1 }, { n: 2 }]);
  const [a, b, c] = received.map((r) => r.at) as [number, number, number];
  assert.ok(b - a >= 9, `first backoff is about baseDelayMs/2 (${b - a}ms)`);
  assert.ok(c - b >= 19, `second backoff doubles (${c - b}ms)`);
  assert.equal(await value(registry, 'opsctl_oom_watch_errors_total{source="webhook"}'), 2);
  assert.equal(await value(registry, 'opsctl_oom_webhook_deliveries_total{result="delivered"}'), 2);
  await hook.stop();
});

test('a 4xx other than 408/429 is not retried', async (t) => {
  const { url, received } = await receiver(t, (_n, res) => res.writeHead(400).end('bad'));
  const { hook, registry } = sender(url);
  hook.send({ n: 1 });
  await hook.flush();
  assert.equal(received.length, 1);
  assert.equal(await value(registry, 'opsctl_oom_webhook_deliveries_total{result="failed"}'), 1);
});

test('429 is retried after its Retry-After', async (t) => {
  const { url, received } = await receiver(t, (n, res) => res.writeHead(n === 1 ? 429 : 200, { 'retry-after': '0' }).end());
  const { hook, registry } = sender(url, { baseDelayMs: 60_000 });
  hook.send({ n: 1 });
  await hook.flush();
  assert.equal(received.length, 2);
  assert.equal(await value(registry, 'opsctl_oom_webhook_deliveries_total{result="delivered"}'), 1);
});

test('network errors use every attempt, then the event is given up', async (t) => {
  const { url } = await receiver(t, (_n, res) => res.destroy());
  const { hook, registry } = sender(url, { attempts: 3, baseDelayMs: 1 });
  hook.send({ n: 1 });
  await hook.flush();
  assert.equal(await value(registry, 'opsctl_oom_watch_errors_total{source="webhook"}'), 3);
  assert.equal(await value(registry, 'opsctl_oom_webhook_deliveries_total{result="failed"}'), 1);
});

test('stop() does not wait for a hanging receiver beyond its grace', async (t) => {
  const { url, received } = await receiver(t, () => undefined);
  const { hook, registry } = sender(url, { timeoutMs: 60_000 });
  hook.send({ n: 1 });
  hook.send({ n: 2 });
  const started = performance.now();
  await hook.stop(50);
  assert.ok(performance.now() - started < 2000);
  assert.equal(received.length, 1);
  assert.equal(await value(registry, 'opsctl_oom_webhook_deliveries_total{result="dropped"}'), 2);
  hook.send({ n: 3 });
  await hook.flush();
  assert.equal(received.length, 1, 'a stopped sender sends nothing');
});
