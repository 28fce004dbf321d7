// The fastify factory every serving tool uses: /metrics, /healthz, /readyz, and coded listen errors.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { OpsError, errnoCode } from './errors.ts';

export interface HttpServerOptions {
  registry: Registry;
  log: Logger;
  /** Readiness: names of the units that are not ready yet; empty means ready. */
  notReady?: () => string[];
  /**
   * More text-format families for /metrics, appended to the registry's: for series too many or
   * too dynamic for prom-client (the probe service's per-target results). Read at each scrape;
   * each block ends in a newline and uses no name the registry has.
   */
  exposition?: ReadonlyArray<() => string>;
  /** Serve HTTPS with this key and certificate (PEM). */
  https?: { key: Buffer; cert: Buffer } | undefined;
}

/**
 * A fastify instance with the endpoints every opsctl service serves. Tools add their own routes
 * before calling `listen`.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = options.log.child({ module: 'http' });
  // Scrapes and probes are frequent: per-request logs would drown everything else.
  const logController = new LogController({ disableRequestLogging: true });
  const app = Fastify({ loggerInstance, logController, return503OnClosing: true, ...(options.https && { https: options.https }) }) as unknown as FastifyInstance;
  app.get('/metrics', async (_req, reply) => {
    let body = await options.registry.metrics();
    for (const more of options.exposition ?? []) body += more();
    return reply.type(options.registry.contentType).send(body);
  });
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', async (_req, reply) => {
    const waiting = options.notReady?.() ?? [];
    if (waiting.length === 0) return reply.type('text/plain').send('ready\n');
    return reply.code(503).type('text/plain').send(`not ready: ${waiting.join(', ')}\n`);
  });
  return app;
}

/** Listens on host:port and returns the bound address ("127.0.0.1:40123"); OPS_ERR_LISTEN on failure. */
export async function listen(app: FastifyInstance, address: { host: string; port: number }): Promise<string> {
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (err) {
    throw new OpsError('OPS_ERR_LISTEN', `cannot listen on ${address.host}:${address.port} (${errnoCode(err) ?? String(err)})`, {
      details: { ...address }, cause: err,
    });
  }
  const bound = app.server.address();
  if (bound === null || typeof bound === 'string') return String(bound);
  return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
}
