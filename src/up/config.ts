// The `opsctl up` config: the process-wide keys and one section per service.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { logFormats, logLevels } from '../core/command.ts';
import { duration, listenAddress } from '../core/config.ts';
import { agentConfigSchema } from '../agent/config.ts';
import { oomConfigSchema } from '../proc/oom/index.ts';

export const upConfigSchema = z.strictObject({
  /** Where /metrics, /healthz and /readyz are served. */
  listen: listenAddress().prefault('127.0.0.1:9110'),
  /** How long graceful shutdown may take before the process exits anyway. */
  shutdown_timeout: duration().prefault('10s'),
  log: z.strictObject({
    level: z.enum(logLevels).default('info'),
    format: z.enum(logFormats).default('json'),
  }).prefault({}),
  oom: oomConfigSchema.prefault({}),
  /** Host metrics (`opsctl agent`) on their own address, node_exporter style, optionally pushed. */
  agent: agentConfigSchema.prefault({}),
  /** The probe service (`opsctl probe serve`) on this process's HTTP server: /probe, its /metrics, /-/reload. */
  probe: z.strictObject({
    enabled: z.boolean().default(false),
    /** Its probes.toml (modules, targets, alerts), relative to this file; its `listen` is not used. */
    config: z.string().min(1).optional(),
  }).prefault({}).refine((p) => !p.enabled || p.config !== undefined, { message: 'probe.enabled needs probe.config (the probes.toml to run)', path: ['config'] }),
  /** The log shipper (`opsctl ship`): its pipeline's metrics on this process's /metrics, its reload on /-/reload; its `listen` is not used. */
  ship: z.strictObject({
    enabled: z.boolean().default(false),
    /** Its ship.toml (sources, transforms, sinks), relative to this file. */
    config: z.string().min(1).optional(),
  }).prefault({}).refine((p) => !p.enabled || p.config !== undefined, { message: 'ship.enabled needs ship.config (the ship.toml to run)', path: ['config'] }),
});

export type UpConfig = z.output<typeof upConfigSchema>;

/** The config with the probe and ship config paths resolved against the main config file's directory (or the working directory). */
export function resolvePaths(config: UpConfig, file: string | undefined): UpConfig {
  const base = file === undefined ? process.cwd() : dirname(resolve(file));
  const at = (path: string | undefined): string | undefined => (path === undefined || isAbsolute(path) ? path : resolve(base, path));
  return { ...config, probe: { ...config.probe, config: at(config.probe.config) }, ship: { ...config.ship, config: at(config.ship.config) } };
}
