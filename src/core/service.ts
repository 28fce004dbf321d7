// The contract of every long-running part of opsctl (oom, agent, probe, ship, and the control
// plane's services): created from its config, given routes on the host's HTTP server, started,
// reloaded, stopped by a deadline. One runner (runner.ts) hosts them, for `opsctl up` and for each
// standalone command alike; src/services.ts lists them.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Outcome of a reload: the new config runs, or the old one still does and this is why. */
export type ReloadOutcome = { ok: true } | { ok: false; error: string };

/** What the runner gives a service when it creates it. */
export interface ServiceContext {
  /** The service's name (its section in `opsctl up`'s config). */
  name: string;
  /** A child logger with `module: <name>`. */
  log: Logger;
  /** The process's registry: a service's metrics go on the host's /metrics. */
  registry: Registry;
  /** Aborted when the process begins to stop. */
  signal: AbortSignal;
  /** Stops the whole process cleanly (a service whose input ended: ship reading stdin). */
  end(reason: string): void;
}

/** A created service: routes are added before the host listens, then it starts. */
export interface Service {
  /** Adds its routes to the host's HTTP server (called before it listens). */
  routes?(app: FastifyInstance): void;
  /** The paths its routes serve, for the "listening" log line. */
  readonly endpoints?: readonly string[];
  /** More text-format families for /metrics (see HttpServerOptions.exposition). */
  exposition?(): string;
  start(): Promise<void> | void;
  /** Stops; `deadline` (ms since epoch) is when the process stops waiting for it. */
  stop(deadline: number): Promise<void> | void;
  /** Reads its config again (SIGHUP, POST /-/reload); on an error the running config stays. */
  reload?(): Promise<ReloadOutcome>;
  /** Names of its parts that are not ready yet (for /readyz); empty when ready. */
  notReady?(): string[];
}

/** How a service is checked and created from its config. */
export interface ServiceDefinition<C> {
  /**
   * What `--check-config` checks beyond the schema, without starting anything: the files the
   * config names load, plugins load, expressions compile. Throws an OpsError (exit 78) when not.
   */
  check?(config: C): Promise<void> | void;
  create(config: C, ctx: ServiceContext): Promise<Service> | Service;
}

/** The reload metrics of every service, one family each, by service. */
export class ReloadMetrics {
  readonly #total: Counter<'service' | 'result'>;
  readonly #ok: Gauge<'service'>;
  readonly #time: Gauge<'service'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#total = new Counter({ name: 'opsctl_config_reloads_total', help: 'Config reloads by service and result (success, failure).', labelNames: ['service', 'result'] as const, registers });
    this.#ok = new Gauge({ name: 'opsctl_config_last_reload_successful', help: 'Whether the last config reload of a service succeeded (1) or failed (0).', labelNames: ['service'] as const, registers });
    this.#time = new Gauge({ name: 'opsctl_config_last_reload_success_timestamp_seconds', help: 'When a service last loaded its config successfully (start or reload), unix seconds.', labelNames: ['service'] as const, registers });
  }

  /** A service loaded its config at start. */
  loaded(service: string): void {
    this.#total.inc({ service, result: 'success' }, 0);
    this.#total.inc({ service, result: 'failure' }, 0);
    this.#ok.set({ service }, 1);
    this.#time.set({ service }, Date.now() / 1000);
  }

  observe(service: string, outcome: ReloadOutcome): void {
    this.#total.inc({ service, result: outcome.ok ? 'success' : 'failure' });
    this.#ok.set({ service }, outcome.ok ? 1 : 0);
    if (outcome.ok) this.#time.set({ service }, Date.now() / 1000);
  }
}

/** Reloads every service that can, in order; the outcome names each that failed. */
export async function reloadAll(services: ReadonlyArray<{ name: string; service: Service }>, metrics: ReloadMetrics): Promise<ReloadOutcome> {
  const errors: string[] = [];
  for (const { name, service } of services) {
    if (!service.reload) continue;
    const outcome = await service.reload();
    metrics.observe(name, outcome);
    if (!outcome.ok) errors.push(services.length > 1 ? `${name}: ${outcome.error}` : outcome.error);
  }
  return errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('\n') };
}

/** POST|PUT /-/reload: 200 "config reloaded", or 500 with the reason and the old config kept. */
export function registerReloadRoute(app: FastifyInstance, reload: () => Promise<ReloadOutcome>): void {
  const handler = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const outcome = await reload();
    if (outcome.ok) return reply.type('text/plain; charset=utf-8').send('config reloaded\n');
    return reply.code(500).type('text/plain; charset=utf-8').send(`reload failed, the running config is unchanged:\n${outcome.error}\n`);
  };
  app.post('/-/reload', handler);
  app.put('/-/reload', handler);
}
