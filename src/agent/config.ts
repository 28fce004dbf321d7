// The `[agent]` section of `opsctl up`: the same settings as the `opsctl agent` flags.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { duration, listenAddress } from '../core/config.ts';
import { labelsSchema, resourceName } from '../link/records.ts';
import { collectors } from './collectors/index.ts';
import type { AgentOptions } from './run.ts';

const collectorName = z.enum(Object.keys(collectors) as [string, ...string[]]);
const url = z.url({ protocol: /^https?$/ });
const wsUrl = z.url({ protocol: /^wss?$/ });

/** `"wss://a"`, `"wss://a,wss://b"` or `["wss://a", "wss://b,wss://c"]`: the URLs, in order, blanks dropped. */
function serverList(value: unknown): unknown {
  if (typeof value !== 'string' && !Array.isArray(value)) return value;
  const items: unknown[] = typeof value === 'string' ? [value] : value;
  return items.flatMap((item) => (typeof item === 'string' ? item.split(',').map((s) => s.trim()).filter((s) => s !== '') : [item]));
}

/** One server or several replicas of it (the agent fails over between them). */
const serverUrls = z.preprocess(serverList, z.array(z.string(), { error: 'expected a wss:// URL or a list of them' }).superRefine((urls, ctx) => {
  if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one wss:// (or ws://) URL' });
  for (const u of urls) {
    if (!wsUrl.safeParse(u).success) ctx.addIssue({ code: 'custom', message: `expected a wss:// (or ws://) URL such as "wss://opsctl.example:9443", got "${u}"` });
  }
}));

/**
 * The link to `opsctl server` (docs/link.md): the same keys in `[agent]` and, as flags, on
 * `opsctl agent` (--server, --token-file, --node-name, --label, --server-ca, --data-dir).
 */
export const agentLinkShape = {
  /**
   * The server, wss://host[:port] (ws:// only for tests on loopback), or its replicas: an array or a
   * comma-separated string (the agent starts at a random one and moves to the next when a link fails); unset: no link.
   */
  server: serverUrls.optional(),
  /** A file holding the agent's bearer token (scope `agent`), read again before every connection. */
  token_file: z.string().min(1).optional(),
  /** The node's name on the server (default: the hostname). */
  node_name: resourceName.optional(),
  /** The node's labels, which config selectors match. */
  labels: labelsSchema.default({}),
  /** A PEM CA bundle the server's certificate must chain to (default: the system's CAs). */
  server_ca: z.string().min(1).optional(),
  /** Where pushed config documents are kept (`pushed/<kind>/<name>.json`). */
  data_dir: z.string().min(1).default('/var/lib/opsctl/agent'),
};

/** A server needs a token file. */
export function checkAgentLink(c: { server?: readonly string[] | undefined; token_file?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.server !== undefined && c.token_file === undefined) ctx.addIssue({ code: 'custom', path: ['token_file'], message: 'a server needs token_file (the agent token to link with)' });
}

export const agentConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** node_exporter's usual port, on loopback. */
  listen: listenAddress().prefault('127.0.0.1:9100'),
  /** Collectors to turn off (others keep their defaults) and default-off ones to turn on. */
  disable: z.array(collectorName).default([]),
  enable: z.array(collectorName).default([]),
  procfs: z.string().default('/proc'),
  sysfs: z.string().default('/sys'),
  rootfs: z.string().default('/'),
  textfile_directory: z.string().optional(),
  push: z.strictObject({
    remote_write: url.optional(),
    url: url.optional(),
    host_id: z.string().min(1).optional(),
    interval: duration().prefault('15s'),
    ring_size: z.int().min(1).default(1024),
    batch_size: z.int().min(1).default(10),
  }).prefault({}),
  ...agentLinkShape,
}).superRefine(checkAgentLink);

export type AgentConfig = z.output<typeof agentConfigSchema>;

type LinkKeys = z.output<z.ZodObject<typeof agentLinkShape>>;

/** The link's options from its keys; relative files are under `baseDir` (up's config directory). */
export function agentLinkOptions(c: LinkKeys, baseDir = process.cwd()): AgentOptions['link'] {
  if (c.server === undefined || c.token_file === undefined) return undefined;
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    server: c.server, tokenFile: path(c.token_file), nodeName: c.node_name, labels: c.labels,
    serverCa: c.server_ca === undefined ? undefined : path(c.server_ca), dataDir: path(c.data_dir),
  };
}

/** The config as startAgent's options. */
export function agentOptions(c: AgentConfig, base?: { configDir: string }): AgentOptions {
  const names = Object.values(collectors)
    .filter((d) => (d.defaultEnabled || c.enable.includes(d.name)) && !c.disable.includes(d.name))
    .map((d) => d.name);
  return {
    listen: c.listen, collectors: names, procfs: c.procfs, sysfs: c.sysfs, rootfs: c.rootfs, textfileDirectory: c.textfile_directory,
    push: {
      remoteWrite: c.push.remote_write, url: c.push.url, hostId: c.push.host_id,
      intervalMs: c.push.interval, ringSize: c.push.ring_size, batchSize: c.push.batch_size,
    },
    link: agentLinkOptions(c, base?.configDir),
  };
}
