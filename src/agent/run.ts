// The agent as a service (core/service.ts): its pull endpoint on its own address, node_exporter
// style, the optional push and the optional link to `opsctl server`; `opsctl agent` and `[agent]` in `opsctl up`.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { OpsError } from '../core/errors.ts';
import { listen } from '../core/http.ts';
import type { ServiceDefinition } from '../core/service.ts';
import { createRegistry } from '../core/metrics.ts';
import { createCollectors } from './collectors/index.ts';
import type { AgentLinkOptions } from './link.ts';
import { startCollectLoop } from './push/collect-loop.ts';
import { initPushMetrics, pushMetrics } from './push/metrics.ts';
import { opsctlSink } from './push/opsctl-sink.ts';
import { Pusher } from './push/pusher.ts';
import { remoteWriteSink } from './push/remote-write.ts';
import { Scraper } from './scrape.ts';
import { createAgentServer } from './server.ts';

export interface AgentOptions {
  listen: { host: string; port: number };
  collectors: readonly string[];
  procfs: string;
  sysfs: string;
  rootfs: string;
  textfileDirectory?: string | undefined;
  push: {
    remoteWrite?: string | undefined;
    url?: string | undefined;
    hostId?: string | undefined;
    intervalMs: number;
    ringSize: number;
    batchSize: number;
  };
  /** The link to `opsctl server` (pushed configs), when a server is set. */
  link?: AgentLinkOptions | undefined;
}

/** Where startAgent registers what to stop (in reverse order of registration). */
interface Stoppers { add(name: string, stop: () => Promise<void> | void): void }

export const agentService: ServiceDefinition<AgentOptions> = {
  create(options, ctx) {
    const stops: Array<() => Promise<void> | void> = [];
    return {
      async start() {
        try {
          await startAgent(options, ctx.log, { add: (_name, stop) => { stops.push(stop); } });
        } catch (err) {
          // The runner stops only what started: close what did (the HTTP listener) before failing.
          for (const stop of stops.reverse()) await stop();
          stops.length = 0;
          throw err;
        }
      },
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  },
};

/** Serves /metrics on its own address and, when a sink is set, pushes every interval. */
async function startAgent(options: AgentOptions, log: Logger, life: Stoppers): Promise<string> {
  const agentLog = log; // the host's child logger (module: agent)
  const built = createCollectors(options.collectors, {
    procfs: options.procfs, sysfs: options.sysfs, rootfs: options.rootfs, textfileDirectory: options.textfileDirectory, log: agentLog,
  });
  const registry = createRegistry();
  const scraper = new Scraper({ collectors: built, log: agentLog });
  const app = createAgentServer({ scraper, registry, log });
  const bound = await listen(app, options.listen);
  life.add('agent http', () => app.close());
  log.info({ address: bound, collectors: options.collectors }, 'listening');

  if (options.link) {
    const { startAgentLink } = await import('./link.ts');
    const client = startAgentLink(options.link, { log: agentLog, registry, rootfs: options.rootfs });
    life.add('link', () => client.stop());
  }

  const { push } = options;
  for (const [what, url] of [['remote-write', push.remoteWrite], ['push url', push.url]] as const) {
    if (url !== undefined && (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))) {
      throw new OpsError('OPS_ERR_USAGE', `${what}: expected an http:// or https:// URL, got "${url}"`);
    }
  }
  const hostId = push.hostId ?? hostname();
  const sinks = [
    ...(push.remoteWrite !== undefined ? [remoteWriteSink({ url: push.remoteWrite })] : []),
    ...(push.url !== undefined ? [opsctlSink({ url: push.url, hostId })] : []),
  ];
  if (sinks.length === 0) return bound;
  const metrics = pushMetrics(registry);
  const pushers = sinks.map((sink) => {
    initPushMetrics(metrics, sink.name);
    const pusher = new Pusher({
      sink, log: agentLog.child({ sink: sink.name }), metrics,
      ringCapacity: push.ringSize, batchRecords: push.batchSize, flushIntervalMs: push.intervalMs,
    });
    pusher.start();
    life.add(`push ${sink.name}`, () => pusher.stop());
    return pusher;
  });
  const stopLoop = startCollectLoop({
    collect: () => scraper.collect(), pushers, intervalMs: push.intervalMs, log: agentLog, extraLabels: { instance: hostId },
  });
  life.add('push collection', stopLoop);
  agentLog.info({ sinks: sinks.map((s) => s.name), intervalMs: push.intervalMs, hostId }, 'pushing');
  return bound;
}
