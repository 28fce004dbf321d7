// The one host of services (service.ts), for `opsctl up` and every standalone command: creates
// them, serves their routes with /metrics, /healthz, /readyz and one /-/reload on one HTTP server,
// starts them in order, reloads them on SIGHUP, and stops them in reverse order on SIGTERM/SIGINT
// (or when one ends its input) within the shutdown timeout.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createHttpServer, listen } from './http.ts';
import { Lifecycle } from './lifecycle.ts';
import { createRegistry } from './metrics.ts';
import { ReloadMetrics, registerReloadRoute, reloadAll, type Service, type ServiceContext, type ServiceDefinition } from './service.ts';
import { holdSighup, onSighup } from './sighup.ts';

/** A service to host: its name, and its definition bound to its config (see `hosted`). */
export interface Hosted {
  name: string;
  check(): Promise<void> | void;
  create(ctx: ServiceContext): Promise<Service> | Service;
}

/** A service definition with its config, to host under `name`. */
export function hosted<C>(name: string, definition: ServiceDefinition<C>, config: C): Hosted {
  return { name, check: () => definition.check?.(config), create: (ctx) => definition.create(config, ctx) };
}

export interface RunServicesOptions {
  /** Started in this order, stopped in the reverse one. */
  services: readonly Hosted[];
  /** The HTTP server's address; without it no server (a service may serve on its own address). */
  listen?: { host: string; port: number } | undefined;
  /** HTTPS for that server (PEM key and certificate). */
  https?: { key: Buffer; cert: Buffer } | undefined;
  log: Logger;
  /** How long stopping may take in all; services are asked to be done 2 s before, to close the rest. */
  shutdownTimeoutMs: number;
  registry?: Registry;
  /** Stops the services when aborted (tests); SIGTERM/SIGINT always do. */
  signal?: AbortSignal | undefined;
  /** Logged once every service started (e.g. `up`'s list of services). */
  started?: { message: string; fields: Record<string, unknown> } | undefined;
  /** Called with the bound address once listening, before the services start. */
  onListening?: (address: string) => void;
}

/** Runs `--check-config`'s checks of every service, in order; throws on the first failure. */
export async function checkServices(services: readonly Hosted[]): Promise<void> {
  for (const service of services) await service.check();
}

/** Hosts `services` until SIGTERM/SIGINT, `signal`, or a service ending its input. */
export async function runServices(options: RunServicesOptions): Promise<void> {
  const { log } = options;
  holdSighup(); // never ended by a SIGHUP, even before a service can reload
  const life = new Lifecycle({ log, shutdownTimeoutMs: options.shutdownTimeoutMs });
  const removeSignals = life.installSignalHandlers();
  options.signal?.addEventListener('abort', () => void life.shutdown('abort'), { once: true });
  // Services stop by this deadline, set when stopping begins: 2 s are kept to close the rest.
  let deadline = Infinity;
  life.signal.addEventListener('abort', () => { deadline = Date.now() + Math.max(0, options.shutdownTimeoutMs - 2000); }, { once: true });
  const registry = options.registry ?? createRegistry();
  const reloads = new ReloadMetrics(registry);
  const starting = new Set(options.services.map((s) => s.name));
  const created: Array<{ name: string; service: Service }> = [];
  try {
    for (const h of options.services) {
      const name = h.name;
      const service = await h.create({
        name, log: log.child({ module: name }), registry, signal: life.signal,
        end: (reason) => void life.shutdown(reason),
      });
      created.push({ name, service });
      if (service.reload) reloads.loaded(name);
    }
    const reloadable = created.filter((c) => c.service.reload !== undefined);
    let address: string | undefined;
    let app: FastifyInstance | undefined;
    if (options.listen) {
      starting.add('http');
      app = createHttpServer({
        registry, log, https: options.https,
        notReady: () => [...starting, ...created.flatMap((c) => c.service.notReady?.() ?? [])],
        exposition: created.flatMap((c) => (c.service.exposition ? [c.service.exposition.bind(c.service)] : [])),
      });
      for (const c of created) c.service.routes?.(app);
      if (reloadable.length > 0) registerReloadRoute(app, () => reloadAll(reloadable, reloads));
      const server = app;
      address = await listen(server, options.listen);
      options.onListening?.(address); // before the services start: one may need it (an agent linking to this process)
      life.add('http', () => server.close());
      starting.delete('http');
    }
    for (const { name, service } of created) {
      await service.start();
      life.add(name, () => service.stop(deadline));
      starting.delete(name);
    }
    if (address !== undefined) {
      const endpoints = ['/metrics', '/healthz', '/readyz', ...created.flatMap((c) => c.service.endpoints ?? []), ...(reloadable.length > 0 ? ['/-/reload'] : [])];
      log.info({ address, endpoints }, 'listening');
    }
    if (options.started) log.info(options.started.fields, options.started.message);
    // Registered last, so removed first when stopping: a SIGHUP while stopping is held, not a reload.
    life.add('sighup', onSighup(({ queued }) => {
      if (reloadable.length === 0) {
        log.info({ signal: 'SIGHUP' }, 'nothing to reload');
        return;
      }
      log.info({ signal: 'SIGHUP', queued, services: reloadable.map((c) => c.name) }, 'reloading config');
      void reloadAll(reloadable, reloads);
    }));
  } catch (err) {
    await life.shutdown('start failed');
    removeSignals();
    throw err;
  }
  await life.done;
  removeSignals();
  log.info('stopped');
}
