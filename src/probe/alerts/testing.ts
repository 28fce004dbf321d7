// Test fixtures for the alerting tests (not used by opsctl itself): a real HTTP receiver on
// 127.0.0.1:0 that records every request, and sample alerts.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { Alert } from './alert.ts';

/** One request as the receiver saw it. */
export interface Received {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when it arrived. */
  at: number;
}

export interface Receiver {
  /** http://127.0.0.1:PORT */
  origin: string;
  received: Received[];
  /** Resolves once `n` requests have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
}

/**
 * Starts a receiver answering request number n (from 1) with `respond`; default 200 "ok".
 * A `respond` that never ends the response makes a hanging endpoint. Closed when the test ends.
 */
export async function receiver(t: TestContext, respond?: (n: number, res: ServerResponse, req: Received) => void): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: performance.now() };
      received.push(r);
      if (respond) respond(received.length, res, r);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const waitFor = async (n: number, timeoutMs = 5000): Promise<Received[]> => {
    const deadline = performance.now() + timeoutMs;
    while (received.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`expected ${n} requests, got ${received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return received;
  };
  return { origin, received, waitFor };
}

/** A firing alert with fixed times; override any field. */
export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  const since = Date.UTC(2025, 0, 2, 3, 0, 0);
  return {
    status: 'firing',
    kind: 'firing',
    name: 'web-1',
    target: 'https://example.com/health',
    module: 'http_2xx',
    labels: { team: 'web', env: 'prod' },
    reason: 'status 503 not in [200-299]',
    since,
    at: since + 120_000,
    failures: 3,
    startedAt: since + 120_000 - 40,
    probeDurationMs: 40,
    intervalMs: 60_000,
    ...overrides,
  };
}

/** The same alert, resolved: recovered 3 minutes after it began. */
export function resolvedAlert(overrides: Partial<Alert> = {}): Alert {
  const base = sampleAlert();
  return sampleAlert({ status: 'resolved', kind: 'resolved', failures: 0, endedAt: base.since + 180_000, at: base.since + 240_000, ...overrides });
}
