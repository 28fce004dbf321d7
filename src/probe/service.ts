// The probe service: a config, the scheduler running its targets, the alerting fed by their results,
// on-demand probes for /probe, and reloads that swap the whole config or keep the old one.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isOpsError } from '../core/errors.ts';
import type { ReloadOutcome } from '../core/service.ts';
import { Alerting } from './alerts/index.ts';
import { splitModule, type ModuleConfig } from './config.ts';
import { resultSamples } from './exposition.ts';
import { probers as builtinProbers } from './probers/index.ts';
import { runProbe, type RunProbeResult } from './run-probe.ts';
import { Scheduler } from './scheduler.ts';
import { loadServiceConfig, type ScheduledTarget, type ServiceConfig } from './service-config.ts';
import { TargetMetrics, type TargetStatus } from './target-metrics.ts';
import type { MetricSample, Prober } from './types.ts';

export interface ProbeServiceOptions {
  /** The probes.toml to load now and on every reload. */
  file: string;
  /** --listen, re-applied on reload (the address itself only changes on restart). */
  listen?: string | undefined;
  log: Logger;
  registry: Registry;
  /** Ends the service when aborted (shutdown). */
  signal?: AbortSignal | undefined;
  /** Probers by name (tests inject fakes); default the probers map. */
  probers?: Readonly<Record<string, Prober>>;
}

/** What /probe needs: one probe now, its samples, and its debug log when asked. */
export interface OnDemandProbe {
  result: RunProbeResult;
  samples: MetricSample[];
  module: ModuleConfig;
}


/**
 * @example
 *   const service = new ProbeService({ file: 'probes.toml', log, registry });
 *   registerProbeRoutes(app, service);   // before app.listen
 *   service.start();
 *   await service.reload();               // SIGHUP, POST /-/reload
 */
export class ProbeService {
  readonly #options: ProbeServiceOptions;
  readonly #log: Logger;
  readonly #probers: Readonly<Record<string, Prober>>;
  readonly #targets: TargetMetrics;
  #config: ServiceConfig;
  #scheduler: Scheduler | undefined;
  #alerting: Alerting | undefined;
  #alertsKey = '';
  #reloading: Promise<ReloadOutcome> | undefined;
  #started = false;

  /** Loads the config (OPS_ERR_CONFIG_* if invalid) and registers the service's metrics; start() runs it. */
  constructor(options: ProbeServiceOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#probers = options.probers ?? builtinProbers;
    this.#config = loadServiceConfig(options.file, { listen: options.listen });
    this.#targets = new TargetMetrics();
  }

  /** The config running now. */
  get config(): ServiceConfig {
    return this.#config;
  }

  /** Starts the scheduler and the alerting for the current config. */
  start(): void {
    if (this.#started) return;
    this.#alerting = this.#createAlerting(this.#config);
    this.#started = true;
    this.#schedule(this.#config);
    this.#log.info({ targets: this.#config.targets.length, modules: Object.keys(this.#config.modules).length, concurrency: this.#config.concurrency }, 'probe service started');
  }

  /** Stops the scheduler (cancelling probes in flight, bounded) and the alerting. */
  async stop(): Promise<void> {
    this.#started = false;
    await this.#reloading;
    await this.#scheduler?.stop();
    await this.#alerting?.stop();
    this.#scheduler = undefined;
    this.#alerting = undefined;
  }

  /**
   * Re-reads the file. A valid config replaces the running one whole: the scheduler restarts with
   * the new targets, /probe sees the new modules, and the alerting is re-created if [alerts]
   * changed (kept, with its state, if not). An invalid one changes nothing. Concurrent calls share one reload.
   */
  reload(): Promise<ReloadOutcome> {
    this.#reloading ??= this.#reload().finally(() => { this.#reloading = undefined; });
    return this.#reloading;
  }

  async #reload(): Promise<ReloadOutcome> {
    let next: ServiceConfig;
    try {
      next = loadServiceConfig(this.#options.file, { listen: this.#options.listen });
    } catch (err) {
      return this.#failed(isOpsError(err) ? `${err.code}: ${err.message}` : String(err));
    }
    if (next.listen.host !== this.#config.listen.host || next.listen.port !== this.#config.listen.port) {
      this.#log.warn({ listen: `${next.listen.host}:${next.listen.port}` }, 'listen changed: takes effect on restart');
    }
    let alerting: Alerting | undefined;
    if (this.#started && alertsKey(next) !== this.#alertsKey) {
      try {
        alerting = this.#createAlerting(next);
      } catch (err) {
        return this.#failed(`alerting: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.#config = next;
    if (this.#started) {
      await this.#scheduler?.stop();
      if (alerting) {
        await this.#alerting?.stop();
        this.#alerting = alerting;
      }
      this.#schedule(next);
    }
    this.#log.info({ file: this.#options.file, targets: next.targets.length, modules: Object.keys(next.modules).length }, 'config reloaded');
    return { ok: true };
  }

  /** Runs one probe now with a module of the running config (for /probe); undefined if no such module. */
  async probe(target: string, moduleName: string, options: { timeoutMs?: number; debug?: boolean; signal?: AbortSignal } = {}): Promise<OnDemandProbe | undefined> {
    const module = Object.hasOwn(this.#config.modules, moduleName) ? this.#config.modules[moduleName] : undefined;
    if (module === undefined) return undefined;
    const { prober, settings, conditions, timeoutMs } = splitModule(module);
    const impl = this.#probers[prober] as Prober;
    const signals = [options.signal, this.#options.signal].filter((s) => s !== undefined);
    const result = await runProbe({
      prober: impl, moduleName, settings, target, conditions, debug: options.debug === true,
      // AbortSignal.timeout() takes whole milliseconds.
      timeoutMs: Math.max(1, Math.ceil(Math.min(timeoutMs, options.timeoutMs ?? Infinity))),
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    });
    return { result, samples: resultSamples(result, impl), module };
  }

  /** Every scheduled target with its last result. */
  status(): TargetStatus[] {
    return this.#targets.status();
  }

  /**
   * The scheduled targets' series for /metrics, appended to the registry's (createHttpServer's
   * `exposition` option): written as text because 10,000 targets make ~200,000 series.
   */
  exposition(): string {
    return this.#targets.render((name) => this.#options.registry.getSingleMetric(name) !== undefined);
  }

  #failed(error: string): ReloadOutcome {
    this.#log.error({ file: this.#options.file, error }, 'reload failed, keeping the running config');
    return { ok: false, error };
  }

  #createAlerting(config: ServiceConfig): Alerting {
    const alerting = new Alerting({ config: config.alerts, log: this.#log.child({ component: 'alerts' }), registry: this.#options.registry, signal: this.#options.signal });
    this.#alertsKey = alertsKey(config);
    return alerting;
  }

  #schedule(config: ServiceConfig): void {
    this.#targets.setTargets(config.targets);
    this.#scheduler = new Scheduler({
      targets: config.targets, modules: config.modules, concurrency: config.concurrency,
      probers: this.#probers, log: this.#log, signal: this.#options.signal,
      onResult: (t, result, prober) => this.#onResult(t, result, prober),
      onSkip: (t) => this.#targets.skip(t),
    });
    this.#scheduler.start();
  }

  #onResult(target: ScheduledTarget, result: RunProbeResult, prober: Prober): void {
    this.#targets.record(target, result, resultSamples(result, prober));
    this.#alerting?.observe({ ...result, name: target.name, labels: target.labels });
    if (!result.success) this.#log.debug({ target: target.name, reason: result.reason }, 'probe failed');
  }
}

/** The [alerts] section in a comparable form (regular expressions and compiled parts by their source). */
function alertsKey(config: ServiceConfig): string {
  return JSON.stringify(config.alerts, (_k, v: unknown) => (v instanceof RegExp ? v.toString() : typeof v === 'function' ? String(v) : v));
}
