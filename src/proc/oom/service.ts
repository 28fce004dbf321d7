// The OOM watcher as a service (core/service.ts): `opsctl oom watch` and `[oom]` in `opsctl up`.
import type { ServiceDefinition } from '../../core/service.ts';
import { OomWatcher, type OomWatcherOptions, type OomWatchStatus } from './watcher.ts';

/** The watcher's options without what the host gives (log, registry, signal). */
export interface OomServiceConfig extends Omit<OomWatcherOptions, 'log' | 'registry' | 'signal'> {
  /** Called once the watcher started, with what it reads (the CLI prints it). */
  onStarted?: ((status: OomWatchStatus) => void) | undefined;
}

export const oomService: ServiceDefinition<OomServiceConfig> = {
  create(config, ctx) {
    const { onStarted, ...options } = config;
    const watcher = new OomWatcher({ ...options, log: ctx.log, registry: ctx.registry, signal: ctx.signal });
    return {
      async start() {
        await watcher.start();
        onStarted?.(watcher.status);
      },
      stop: () => watcher.stop(),
    };
  },
};
