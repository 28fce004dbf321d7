// Starts the services an `opsctl up` config enables and waits for a signal to stop them in order.
import { createHttpServer, listen } from '../core/http.ts';
import { Lifecycle } from '../core/lifecycle.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { OomWatcher } from '../proc/oom/index.ts';
import type { UpConfig } from './config.ts';

/** Runs until SIGTERM/SIGINT (or `signal`), then stops services in reverse order of start. */
export async function runUp(config: UpConfig, signal?: AbortSignal): Promise<void> {
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const life = new Lifecycle({ log, shutdownTimeoutMs: config.shutdown_timeout });
  const removeHandlers = life.installSignalHandlers();
  signal?.addEventListener('abort', () => void life.shutdown('abort'), { once: true });
  const registry = createRegistry();
  const starting = new Set<string>(['http']);
  const app = createHttpServer({ registry, log, notReady: () => [...starting] });
  try {
    const address = await listen(app, config.listen);
    life.add('http', () => app.close());
    starting.delete('http');
    log.info({ address, endpoints: ['/metrics', '/healthz', '/readyz'] }, 'listening');
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
    log.info({ services: ['http', ...(config.oom.enabled ? ['oom'] : [])] }, 'up');
  } catch (err) {
    await life.shutdown('start failed');
    removeHandlers();
    throw err;
  }
  await life.done;
  removeHandlers();
  log.info('stopped');
}
