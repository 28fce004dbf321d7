// `opsctl up`: every service its config enables (src/services.ts), hosted by one runner on one
// HTTP server, started in order and stopped in reverse order on SIGTERM/SIGINT. With [server] and
// [agent] both on and no server named for the agent, the agent links to the server in this process.
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AgentOptions } from '../agent/run.ts';
import { createLogger } from '../core/log.ts';
import { hosted, type Hosted } from '../core/runner.ts';
import type { ServerServiceConfig } from '../server/section.ts';
import { services, type ServiceName } from '../services.ts';
import type { UpConfig } from './config.ts';

/** Where this process listens, once it does (the agent's link to the server in the same process). */
interface LocalAddress { address?: string | undefined }

/**
 * The services `config` enables, in start order. `file` is the config file (relative paths in
 * sections are relative to its directory; the working directory without one).
 */
export async function enabledServices(config: UpConfig, file: string | undefined, local: LocalAddress = {}): Promise<Hosted[]> {
  const base = { configDir: file === undefined ? process.cwd() : dirname(resolve(file)) };
  const configs = new Map<ServiceName, unknown>();
  for (const name of Object.keys(services) as ServiceName[]) {
    const c = (services[name].fromSection as (v: unknown, b: typeof base) => unknown)(config[name], base);
    if (c !== undefined) configs.set(name, c);
  }
  const server = configs.get('server') as ServerServiceConfig | undefined;
  const agent = configs.get('agent') as AgentOptions | undefined;
  if (server && agent && !agent.link) agent.link = localLink(server, config, base.configDir, local);
  const out: Hosted[] = [];
  for (const [name, c] of configs) out.push(hosted(name, await services[name].load() as never, c as never));
  return out;
}

/** The agent's link to the server of this process: its address once listening, a token minted with the server's key. */
function localLink(server: ServerServiceConfig, config: UpConfig, configDir: string, local: LocalAddress): NonNullable<AgentOptions['link']> {
  const nodeName = config.agent.node_name ?? hostname();
  const dataDir = isAbsolute(config.agent.data_dir) ? config.agent.data_dir : resolve(configDir, config.agent.data_dir);
  return {
    server: () => `ws://${(local.address ?? '').replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:')}`,
    token: async () => {
      const { ensureDefaultKey, mintToken } = await import('../server/auth.ts');
      const auth = await ensureDefaultKey(server.data_dir, server.auth, { create: false });
      return (await mintToken({ subject: nodeName, scopes: ['agent'], ttl: 86_400_000 }, auth)).token;
    },
    nodeName, labels: config.agent.labels, dataDir,
    serverCa: undefined,
  };
}

/** Runs until SIGTERM/SIGINT (or `signal`), then stops services in reverse order of start. */
export async function runUp(config: UpConfig, file: string | undefined, signal?: AbortSignal): Promise<void> {
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const local: LocalAddress = {};
  const hostedServices = await enabledServices(config, file, local);
  const { runServices } = await import('../core/runner.ts');
  await runServices({
    services: hostedServices, listen: config.listen, log, shutdownTimeoutMs: config.shutdown_timeout, signal,
    onListening: (address) => { local.address = address; },
    started: { message: 'up', fields: { services: ['http', ...hostedServices.map((s) => s.name)] } },
  });
}
