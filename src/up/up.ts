// Starts the services an `opsctl up` config enables and waits for a signal to stop them in order.
import { createHttpServer, listen } from '../core/http.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { holdSighup, onSighup } from '../core/sighup.ts';
import { OomWatcher } from '../proc/oom/index.ts';
import type { ProbeService } from '../probe/index.ts';
import type { ShipService } from '../ship/index.ts';
import type { UpConfig } from './config.ts';

/** Runs until SIGTERM/SIGINT (or `signal`), then stops services in reverse order of start. */
export async function runUp(config: UpConfig, signal?: AbortSignal): Promise<void> {
  // SIGHUP must never end the process (its default action); one before every service started is
  // held and reloads once they have.
  holdSighup();
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const life = new Lifecycle({ log, shutdownTimeoutMs: config.shutdown_timeout });
  const removeHandlers = life.installSignalHandlers();
  signal?.addEventListener('abort', () => void life.shutdown('abort'), { once: true });
  const registry = createRegistry();
  const starting = new Set<string>(['http']);
  // Services that write their own /metrics text add it here (read at each scrape).
  const exposition: Array<() => string> = [];
  const app = createHttpServer({ registry, log, notReady: () => [...starting], exposition });
  // Services that reload their config on SIGHUP and POST /-/reload, once started.
  const reloadable: Array<{ name: string; reload: () => Promise<{ ok: true } | { ok: false; error: string }> }> = [];
  const reloadAll = async (): Promise<{ ok: true } | { ok: false; error: string }> => {
    const errors: string[] = [];
    for (const { name, reload } of reloadable) {
      const outcome = await reload();
      if (!outcome.ok) errors.push(`${name}: ${outcome.error}`);
    }
    return errors.length === 0 ? { ok: true } : { ok: false, error: errors.join('\n') };
  };
  let removeHup = (): void => {};
  try {
    // Routes must be on the server before it listens; services start once it does.
    let probe: ProbeService | undefined;
    let ship: ShipService | undefined;
    if (config.probe.enabled && config.probe.config !== undefined) {
      const { ProbeService, registerProbeRoutes } = await import('../probe/index.ts');
      probe = new ProbeService({ file: config.probe.config, log: log.child({ module: 'probe' }), registry, signal: life.signal });
      registerProbeRoutes(app, probe, { reloadRoute: false });
      const service = probe;
      exposition.push(() => service.exposition());
      starting.add('probe');
    }
    if (config.ship.enabled && config.ship.config !== undefined) {
      const { ShipService } = await import('../ship/index.ts');
      ship = new ShipService({ file: config.ship.config, log: log.child({ module: 'ship' }), registry });
      starting.add('ship');
    }
    if (probe || ship) {
      const { registerShipRoutes } = await import('../ship/index.ts');
      registerShipRoutes(app, reloadAll);
    }
    const address = await listen(app, config.listen);
    life.add('http', () => app.close());
    starting.delete('http');
    const endpoints = ['/metrics', '/healthz', '/readyz', ...(probe ? ['/probe', '/api/v1/targets'] : []), ...(probe || ship ? ['/-/reload'] : [])];
    log.info({ address, endpoints }, 'listening');
    if (config.oom.enabled) {
      starting.add('oom');
      const oom = new OomWatcher({
        log: log.child({ module: 'oom' }), registry, signal: life.signal,
        intervalMs: config.oom.interval, webhook: config.oom.webhook,
        kmsgPath: config.oom.kmsg ? '/dev/kmsg' : false, procfs: '/proc', sysfs: '/sys',
      });
      await oom.start();
      life.add('oom', () => oom.stop());
      starting.delete('oom');
    }
    if (config.agent.enabled) {
      starting.add('agent');
      const { startAgent } = await import('../agent/run.ts');
      const { agentOptions } = await import('../agent/config.ts');
      await startAgent(agentOptions(config.agent), log, life);
      starting.delete('agent');
    }
    if (probe) {
      probe.start();
      life.add('probe', () => probe.stop());
      const service = probe;
      reloadable.push({ name: 'probe', reload: () => service.reload() });
      starting.delete('probe');
    }
    if (ship) {
      await ship.start();
      const service = ship;
      // Up's shutdown_timeout bounds the whole stop: the shipper drains within it, keeping 2 s to
      // close and save its checkpoints, rather than being cut off by the forced exit.
      life.add('ship', () => service.stop({ deadline: Date.now() + Math.max(0, config.shutdown_timeout - 2000) }));
      reloadable.push({ name: 'ship', reload: () => service.reload() });
      starting.delete('ship');
    }
    log.info({ services: ['http', ...(config.oom.enabled ? ['oom'] : []), ...(config.agent.enabled ? ['agent'] : []), ...(probe ? ['probe'] : []), ...(ship ? ['ship'] : [])] }, 'up');
    // The last stop hook, so the first to run: a SIGHUP while stopping is held, not a reload.
    removeHup = onSighup(({ queued }) => {
      if (reloadable.length === 0) {
        log.info({ signal: 'SIGHUP', queued }, 'nothing to reload');
        return;
      }
      log.info({ signal: 'SIGHUP', queued, services: reloadable.map((r) => r.name) }, 'reloading config');
      void reloadAll();
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
