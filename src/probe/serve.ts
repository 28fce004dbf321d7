// `opsctl probe serve`: the probe service on its own HTTP server, stopped in order on SIGTERM/SIGINT,
// reloaded on SIGHUP (one held while starting is applied once started).
import type { Logger } from 'pino';
import { createHttpServer, listen } from '../core/http.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createRegistry } from '../core/metrics.ts';
import { holdSighup, onSighup } from '../core/sighup.ts';
import { registerProbeRoutes } from './exporter.ts';
import { ProbeService } from './service.ts';
import type { Prober } from './types.ts';

export interface ServeProbesOptions {
  file: string;
  /** --listen, over the config's. */
  listen?: string | undefined;
  log: Logger;
  /** Stops the service when aborted (tests); SIGTERM/SIGINT always do. */
  signal?: AbortSignal;
  probers?: Readonly<Record<string, Prober>>;
  /** Called with the bound address once listening. */
  onListening?: (address: string) => void;
}

/** Runs until SIGTERM/SIGINT (or `signal`); SIGHUP reloads the config. */
export async function serveProbes(options: ServeProbesOptions): Promise<void> {
  const { log } = options;
  holdSighup();
  const life = new Lifecycle({ log });
  const registry = createRegistry();
  const service = new ProbeService({
    file: options.file, listen: options.listen, log: log.child({ module: 'probe' }), registry, signal: life.signal, probers: options.probers,
  });
  const removeHandlers = life.installSignalHandlers();
  options.signal?.addEventListener('abort', () => void life.shutdown('abort'), { once: true });
  const starting = new Set(['http', 'probe']);
  const app = createHttpServer({ registry, log, notReady: () => [...starting], exposition: [() => service.exposition()] });
  registerProbeRoutes(app, service);
  let removeHup = (): void => {};
  try {
    const address = await listen(app, service.config.listen);
    life.add('http', () => app.close());
    starting.delete('http');
    service.start();
    life.add('probe', () => service.stop());
    starting.delete('probe');
    log.info({ address, endpoints: ['/probe', '/metrics', '/api/v1/targets', '/-/reload', '/healthz', '/readyz'] }, 'listening');
    options.onListening?.(address);
    // The last stop hook, so the first to run: a SIGHUP while stopping is held, not a reload.
    removeHup = onSighup(({ queued }) => {
      log.info({ signal: 'SIGHUP', queued }, 'reloading config');
      // The outcome is logged by the service.
      service.reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
    });
    life.add('sighup', removeHup);
  } catch (err) {
    await life.shutdown('start failed');
    removeHandlers();
    throw err;
  }
  await life.done;
  removeHup();
  removeHandlers();
  log.info('stopped');
}
