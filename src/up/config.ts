// The `opsctl up` config: the process-wide keys and one section per service (src/services.ts).
import { z } from 'zod';
import { logFormats, logLevels } from '../core/command.ts';
import { duration, listenAddress } from '../core/config.ts';
import { services } from '../services.ts';

type Sections = { [K in keyof typeof services]: (typeof services)[K]['section'] };
const sections = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, s.section])) as unknown as Sections;

export const upConfigSchema = z.strictObject({
  /** Where /metrics, /healthz, /readyz (and the services' routes, /-/reload) are served. */
  listen: listenAddress().prefault('127.0.0.1:9110'),
  /** How long graceful shutdown may take before the process exits anyway. */
  shutdown_timeout: duration().prefault('10s'),
  log: z.strictObject({
    level: z.enum(logLevels).default('info'),
    format: z.enum(logFormats).default('json'),
  }).prefault({}),
  ...sections,
});

export type UpConfig = z.output<typeof upConfigSchema>;
