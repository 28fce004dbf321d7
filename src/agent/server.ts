// The agent's pull endpoint: /metrics (collectors plus the agent's own registry), gzip when asked.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createHttpServer } from '../core/http.ts';
import type { Registry } from '../core/metrics.ts';
import type { Scraper } from './scrape.ts';

const gzipAsync = promisify(gzip);

export interface AgentServerOptions {
  scraper: Scraper;
  registry: Registry;
  log: Logger;
}

const isMetrics = (url: string): boolean => url === '/metrics' || url.startsWith('/metrics?');

/**
 * A fastify app serving the host metrics on /metrics next to /healthz and /readyz. Each scrape
 * collects before the handler runs (concurrent scrapes share one collection); the body is gzipped
 * when the client accepts gzip, as node_exporter does.
 */
export function createAgentServer(options: AgentServerOptions): FastifyInstance {
  let latest = '';
  const app = createHttpServer({ registry: options.registry, log: options.log, exposition: [() => latest] });
  app.addHook('onRequest', async (req) => {
    if (isMetrics(req.url)) latest = await options.scraper.scrape();
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!isMetrics(req.url) || typeof payload !== 'string' || reply.statusCode !== 200) return payload;
    void reply.header('vary', 'Accept-Encoding');
    if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return payload;
    void reply.header('content-encoding', 'gzip');
    return gzipAsync(payload);
  });
  return app;
}
