// The `[agent]` section of `opsctl up`: the same settings as the `opsctl agent` flags.
import { z } from 'zod';
import { duration, listenAddress } from '../core/config.ts';
import { collectors } from './collectors/index.ts';
import type { AgentOptions } from './run.ts';

const collectorName = z.enum(Object.keys(collectors) as [string, ...string[]]);
const url = z.url({ protocol: /^https?$/ });

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
});

export type AgentConfig = z.output<typeof agentConfigSchema>;

/** The config as startAgent's options. */
export function agentOptions(c: AgentConfig): AgentOptions {
  const names = Object.values(collectors)
    .filter((d) => (d.defaultEnabled || c.enable.includes(d.name)) && !c.disable.includes(d.name))
    .map((d) => d.name);
  return {
    listen: c.listen, collectors: names, procfs: c.procfs, sysfs: c.sysfs, rootfs: c.rootfs, textfileDirectory: c.textfile_directory,
    push: {
      remoteWrite: c.push.remote_write, url: c.push.url, hostId: c.push.host_id,
      intervalMs: c.push.interval, ringSize: c.push.ring_size, batchSize: c.push.batch_size,
    },
  };
}
