// The shipper as a service (core/service.ts): `opsctl ship` on its own HTTP server (/metrics,
// /healthz, /readyz, POST /-/reload), and `[ship]` in `opsctl up`. The end of stdin ends the run.
import type { Logger } from 'pino';
import { hosted, runServices } from '../core/runner.ts';
import type { ServiceDefinition } from '../core/service.ts';
import type { ShipConfig } from './config.ts';
import { loadShipConfig, ShipService, type ShipOverrides } from './service.ts';

export interface ShipServiceConfig {
  /** The ship.toml, read again on each reload. */
  file: string;
  overrides?: ShipOverrides | undefined;
  /** The config already loaded from `file` (saves a second read). */
  config?: ShipConfig | undefined;
}

export const shipService: ServiceDefinition<ShipServiceConfig> = {
  async check({ file, overrides, config }) {
    // Building checks what the schema cannot (plugins load, regexes compile) without reading anything.
    const { checkPipeline } = await import('./check.ts');
    await checkPipeline(file, config ?? loadShipConfig(file, overrides));
  },
  create({ file, overrides, config }, ctx) {
    const service = new ShipService({ file, overrides, log: ctx.log, registry: ctx.registry, config });
    service.onInputEnd(() => {
      ctx.log.info('every source reached the end of its input');
      ctx.end('input ended');
    });
    return {
      start: () => service.start(),
      // The host's deadline bounds the drain (up's shutdown_timeout), or the shipper's own when sooner.
      stop: (deadline) => service.stop({ deadline }),
      reload: () => service.reload(),
      notReady: () => service.notReady(),
    };
  },
};

export interface RunShipOptions {
  file: string;
  config: ShipConfig;
  overrides?: ShipOverrides;
  log: Logger;
  /** Stops the shipper when aborted (tests); SIGTERM/SIGINT always do. */
  signal?: AbortSignal;
}

/** `opsctl ship`: runs until SIGTERM/SIGINT, `signal`, or the end of every source's input (stdin). */
export async function runShip(options: RunShipOptions): Promise<void> {
  const { file, config, overrides, log, signal } = options;
  // Draining may take shutdown_timeout; the process allows a little more to close the rest.
  await runServices({
    services: [hosted('ship', shipService, { file, overrides, config })],
    listen: config.listen, log, shutdownTimeoutMs: config.shutdown_timeout + 5000, signal,
  });
}
