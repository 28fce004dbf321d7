// The `opsctl up` config: the process-wide keys and one section per service.
import { z } from 'zod';
import { logFormats, logLevels } from '../core/command.ts';
import { duration, listenAddress } from '../core/config.ts';
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
});

export type UpConfig = z.output<typeof upConfigSchema>;
