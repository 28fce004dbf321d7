// The probe service as a service (core/service.ts): `opsctl probe serve` on its own HTTP server,
// and `[probe]` in `opsctl up`. /probe, /api/v1/targets, the per-target series on /metrics, reloads.
import type { Logger } from 'pino';
import { hosted, runServices } from '../core/runner.ts';
import type { ServiceDefinition } from '../core/service.ts';
import { registerProbeRoutes } from './exporter.ts';
import { ProbeService } from './service.ts';
import { loadServiceConfig } from './service-config.ts';
import type { Prober } from './types.ts';

export interface ProbeServiceConfig {
  /** The probes.toml (modules, targets, alerts), read again on each reload. */
  file: string;
  /** --listen, over the config's. */
  listen?: string | undefined;
  /** Probers by name (tests inject fakes). */
  probers?: Readonly<Record<string, Prober>> | undefined;
}

export const probeService: ServiceDefinition<ProbeServiceConfig> = {
  check(config) {
    loadServiceConfig(config.file, { listen: config.listen });
  },
  create(config, ctx) {
    const service = new ProbeService({ file: config.file, listen: config.listen, log: ctx.log, registry: ctx.registry, signal: ctx.signal, probers: config.probers });
    return {
      routes: (app) => { registerProbeRoutes(app, service); },
      endpoints: ['/probe', '/api/v1/targets'],
      exposition: () => service.exposition(),
      start: () => { service.start(); },
      stop: () => service.stop(),
      reload: () => service.reload(),
    };
  },
};

export interface ServeProbesOptions extends ProbeServiceConfig {
  log: Logger;
  /** Stops the service when aborted (tests); SIGTERM/SIGINT always do. */
  signal?: AbortSignal;
  /** Called with the bound address once listening. */
  onListening?: (address: string) => void;
}

/** `opsctl probe serve`: runs until SIGTERM/SIGINT (or `signal`); SIGHUP and POST /-/reload reload the config. */
export async function serveProbes(options: ServeProbesOptions): Promise<void> {
  const { log, signal, onListening, ...config } = options;
  const listen = loadServiceConfig(config.file, { listen: config.listen }).listen;
  await runServices({ services: [hosted('probe', probeService, config)], listen, log, shutdownTimeoutMs: 10_000, signal, onListening });
}
