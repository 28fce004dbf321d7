// `opsctl up`: every service its config enables (src/services.ts), hosted by one runner on one
// HTTP server, started in order and stopped in reverse order on SIGTERM/SIGINT.
import { dirname, resolve } from 'node:path';
import { createLogger } from '../core/log.ts';
import type { Hosted } from '../core/runner.ts';
import { hostedFromSection, services, type ServiceName } from '../services.ts';
import type { UpConfig } from './config.ts';

/**
 * The services `config` enables, in start order. `file` is the config file (relative paths in
 * sections are relative to its directory; the working directory without one).
 */
export async function enabledServices(config: UpConfig, file: string | undefined): Promise<Hosted[]> {
  const base = { configDir: file === undefined ? process.cwd() : dirname(resolve(file)) };
  const out: Hosted[] = [];
  for (const name of Object.keys(services) as ServiceName[]) {
    const h = await hostedFromSection(name, services[name] as never, config[name] as never, base);
    if (h) out.push(h);
  }
  return out;
}

/** Runs until SIGTERM/SIGINT (or `signal`), then stops services in reverse order of start. */
export async function runUp(config: UpConfig, file: string | undefined, signal?: AbortSignal): Promise<void> {
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const hostedServices = await enabledServices(config, file);
  const { runServices } = await import('../core/runner.ts');
  await runServices({
    services: hostedServices, listen: config.listen, log, shutdownTimeoutMs: config.shutdown_timeout, signal,
    started: { message: 'up', fields: { services: ['http', ...hostedServices.map((s) => s.name)] } },
  });
}
