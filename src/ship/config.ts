// The `opsctl ship` config: process keys plus named sources, transforms and sinks wired by `inputs`.
// Component schemas come from the three maps; the graph (inputs, fallbacks, cycles) is checked here
// so every mistake is reported with the file, line and key.
import { z } from 'zod';
import { logFormats, logLevels } from '../core/command.ts';
import { duration, listenAddress } from '../core/config.ts';
import { sinks } from './sinks/index.ts';
import { sources } from './sources/index.ts';
import { transforms } from './transforms/index.ts';
import { graphProblems } from './graph.ts';

export { deadEnds } from './graph.ts';

import type { BatchConfig, BufferConfig, RetryConfig } from './schema.ts';

/** What the pipeline reads of every source, transform and sink config (each type adds its own keys). */
export interface SourceConfig { type: string }
export interface TransformConfig { type: string; inputs: string[] }
export interface SinkConfig {
  type: string; inputs: string[]; fallback?: string | undefined;
  buffer: BufferConfig; batch: BatchConfig; retry: RetryConfig; request_timeout: number;
}

type Discriminable = Parameters<typeof z.discriminatedUnion>[1][number];
/** One schema per map entry, told apart by `type`. */
function union<T>(defs: Record<string, { schema: unknown }>): z.ZodType<T> {
  const schemas = Object.values(defs).map((d) => d.schema) as [Discriminable, ...Discriminable[]];
  return z.discriminatedUnion('type', schemas) as unknown as z.ZodType<T>;
}

const componentName = /^[A-Za-z0-9_-]+$/;
const names = z.string().regex(componentName, 'component names are letters, digits, "_" and "-"');

export const shipConfigSchema = z.strictObject({
  /** Checkpoints, disk buffers and the dead-letter file live here. */
  data_dir: z.string().min(1).default('/var/lib/opsctl/ship'),
  /** Where /metrics, /healthz, /readyz and POST /-/reload are served. */
  listen: listenAddress().prefault('127.0.0.1:9180'),
  /** How long SIGTERM may take to drain in-flight batches and save checkpoints. */
  shutdown_timeout: duration().prefault('30s'),
  log: z.strictObject({
    level: z.enum(logLevels).default('info'),
    format: z.enum(logFormats).default('json'),
  }).prefault({}),
  dead_letter: z.strictObject({
    /** NDJSON file of entries no sink would take (rejected with a 4xx, retries exhausted, parse failures with on_error = "dead_letter"); default <data_dir>/dead-letter.ndjson. */
    path: z.string().min(1).optional(),
  }).prefault({}),
  sources: z.record(names, union<SourceConfig>(sources)).default({}),
  transforms: z.record(names, union<TransformConfig>(transforms)).default({}),
  sinks: z.record(names, union<SinkConfig>(sinks)).default({}),
}).superRefine((config, ctx) => {
  for (const problem of graphProblems(config)) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
});

export type ShipConfig = z.output<typeof shipConfigSchema>;
