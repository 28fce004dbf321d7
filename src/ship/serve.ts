// `opsctl ship`: the pipeline with /metrics, /healthz, /readyz and POST /-/reload on its own HTTP
// server; SIGHUP reloads (one held while starting is applied once started), SIGTERM/SIGINT drain and
// save checkpoints, the end of stdin ends the run.
import type { Logger } from 'pino';
import { createHttpServer, listen } from '../core/http.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createRegistry } from '../core/metrics.ts';
import { holdSighup, onSighup } from '../core/sighup.ts';
import type { ShipConfig } from './config.ts';
import { ShipService, registerShipRoutes, type ShipOverrides } from './service.ts';

export interface RunShipOptions {
  file: string;
  config: ShipConfig;
  overrides?: ShipOverrides;
  log: Logger;
  /** Stops the shipper when aborted (tests); SIGTERM/SIGINT always do. */
  signal?: AbortSignal;
}

/** Runs until SIGTERM/SIGINT, `signal`, or the end of every source's input (stdin). */
export async function runShip(options: RunShipOptions): Promise<void> {
  const { log, config } = options;
  holdSighup();
  // Draining may take shutdown_timeout; the lifecycle allows a little more to close the rest.
  const life = new Lifecycle({ log, shutdownTimeoutMs: config.shutdown_timeout + 5000 });
  const registry = createRegistry();
  const service = new ShipService({ file: options.file, overrides: options.overrides, log: log.child({ module: 'ship' }), registry, config });
  const removeHandlers = life.installSignalHandlers();
  options.signal?.addEventListener('abort', () => void life.shutdown('abort'), { once: true });
  service.onInputEnd(() => {
    log.info('every source reached the end of its input');
    void life.shutdown('input ended');
  });
  const app = createHttpServer({ registry, log, notReady: () => service.notReady() });
  registerShipRoutes(app, () => service.reload());
  let removeHup = (): void => {};
  try {
    const address = await listen(app, config.listen);
    life.add('http', () => app.close());
    await service.start();
    life.add('ship', () => service.stop());
    log.info({ address, endpoints: ['/metrics', '/-/reload', '/healthz', '/readyz'] }, 'listening');
    // The last stop hook, so the first to run: a SIGHUP while stopping is held, not a reload.
    removeHup = onSighup(({ queued }) => {
      log.info({ signal: 'SIGHUP', queued }, 'reloading config');
      void service.reload();
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
