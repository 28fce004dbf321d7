// The shipper as a service: loads its config, runs the pipeline, reloads the whole config on
// demand (SIGHUP, POST /-/reload) or keeps the old one, and stops with a drain deadline.
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadConfig } from '../core/config.ts';
import type { ReloadOutcome } from '../core/service.ts';
import { ShipMetrics } from './metrics.ts';
import { Pipeline } from './pipeline.ts';
import { shipConfigSchema, type ShipConfig } from './config.ts';
import { releaseHandedOver } from './sources/file.ts';
import { releaseStdin } from './sources/stdin.ts';

/** Values from flags that win over the file and the environment. */
export interface ShipOverrides {
  listen?: string | undefined;
  dataDir?: string | undefined;
  logLevel?: string | undefined;
  logFormat?: string | undefined;
}

/** Reads and validates a ship config (OPS_ERR_CONFIG_* with file:line and key on a mistake). */
export function loadShipConfig(file: string, overrides: ShipOverrides = {}, env: NodeJS.ProcessEnv = process.env): ShipConfig {
  return loadConfig({
    schema: shipConfigSchema, file, env, envPrefix: 'OPSCTL_SHIP_',
    flags: { listen: overrides.listen, data_dir: overrides.dataDir, 'log.level': overrides.logLevel, 'log.format': overrides.logFormat },
    flagNames: { listen: '--listen', data_dir: '--data-dir', 'log.level': '--log-level', 'log.format': '--log-format' },
  });
}


export interface ShipServiceOptions {
  file: string;
  overrides?: ShipOverrides;
  log: Logger;
  registry: Registry;
  /** Config already loaded from `file` (saves a second read at start). */
  config?: ShipConfig;
}

/**
 * @example
 *   const ship = new ShipService({ file: 'ship.toml', log, registry });
 *   await ship.start();
 *   await ship.reload(); // SIGHUP
 *   await ship.stop();   // SIGTERM: drain within shutdown_timeout, save checkpoints
 */
export class ShipService {
  readonly #o: ShipServiceOptions;
  readonly #metrics: ShipMetrics;
  #config: ShipConfig;
  #pipeline: Pipeline | undefined;
  #reloading: Promise<ReloadOutcome> | undefined;
  #stopped = false;
  #onInputEnd: (() => void) | undefined;

  constructor(options: ShipServiceOptions) {
    this.#o = options;
    this.#config = options.config ?? loadShipConfig(options.file, options.overrides);
    this.#metrics = new ShipMetrics(options.registry);
  }

  get config(): ShipConfig {
    return this.#config;
  }

  /** Called once every source of the running pipeline ended by itself (stdin at EOF). */
  onInputEnd(callback: () => void): void {
    this.#onInputEnd = callback;
  }

  async start(): Promise<void> {
    this.#pipeline = await this.#build(this.#config);
    this.#pipeline.start();
    this.#watch(this.#pipeline);
    this.#o.log.info({ sources: Object.keys(this.#config.sources), transforms: Object.keys(this.#config.transforms), sinks: Object.keys(this.#config.sinks) }, 'pipeline started');
  }

  /** Loads the config again; a bad one is reported and the running pipeline keeps going. */
  reload(): Promise<ReloadOutcome> {
    this.#reloading ??= this.#reload().finally(() => { this.#reloading = undefined; });
    return this.#reloading;
  }

  /**
   * Stops reading, drains until the shutdown deadline (shutdown_timeout from now, or `deadline`
   * in ms since epoch when that is sooner: the process around it has its own), saves checkpoints.
   */
  async stop(options: { deadline?: number } = {}): Promise<void> {
    this.#stopped = true;
    await this.#reloading;
    await this.#pipeline?.stop(Math.min(Date.now() + this.#config.shutdown_timeout, options.deadline ?? Infinity));
    this.#pipeline = undefined;
    releaseStdin(); // kept open across reloads; a pending read would keep the process alive
  }

  /** Units not ready (for /readyz): none once the pipeline runs. */
  notReady(): string[] {
    return this.#pipeline ? [] : ['ship'];
  }

  async #reload(): Promise<ReloadOutcome> {
    const log = this.#o.log;
    let next: ShipConfig;
    try {
      next = loadShipConfig(this.#o.file, this.#o.overrides);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log.error({ error }, 'reload failed, the running config is unchanged');
      return { ok: false, error };
    }
    if (this.#stopped) return { ok: false, error: 'stopping' };
    log.info({ file: this.#o.file }, 'reloading config');
    if (next.listen.host !== this.#config.listen.host || next.listen.port !== this.#config.listen.port) {
      log.warn({ listen: `${next.listen.host}:${next.listen.port}` }, 'listen changes only on restart');
    }
    // The old pipeline drains (its checkpoints saved) before the new one opens the same files and
    // buffers. A failing sink is not waited for: its entries are read again by the new pipeline.
    // Files renamed away or deleted stay open and are handed to the new pipeline's sources, which
    // read them on from their checkpoints (a deleted file could not be opened again).
    await this.#pipeline?.stop(Date.now() + this.#config.shutdown_timeout, { abandonFailing: true, handOver: true });
    try {
      this.#pipeline = await this.#build(next);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      log.error({ error }, 'reload failed while starting the new pipeline, restarting the previous config');
      this.#pipeline = await this.#build(this.#config);
      await releaseHandedOver();
      this.#pipeline.start();
      this.#watch(this.#pipeline);
      return { ok: false, error };
    }
    this.#config = next;
    await releaseHandedOver(); // those no source of the new config took
    this.#pipeline.start();
    this.#watch(this.#pipeline);
    log.info({ sources: Object.keys(next.sources), transforms: Object.keys(next.transforms), sinks: Object.keys(next.sinks) }, 'config reloaded');
    return { ok: true };
  }

  #build(config: ShipConfig): Promise<Pipeline> {
    return Pipeline.build(config, { log: this.#o.log, metrics: this.#metrics, configDir: dirname(resolve(this.#o.file)) });
  }

  #watch(pipeline: Pipeline): void {
    void pipeline.sourcesDone.then(() => {
      if (this.#pipeline === pipeline && !this.#stopped && this.#reloading === undefined) this.#onInputEnd?.();
    });
  }
}
