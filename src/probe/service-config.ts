// The `opsctl probe serve` config: listen address, modules, scheduled targets and alerts. Strict
// keys, every default here; cross-field checks name the [[targets]] entry at fault.
import { z } from 'zod';
import { duration, listenAddress, loadConfig } from '../core/config.ts';
import { alertsSchema } from './alerts/index.ts';
import { moduleSchema, type ModuleConfig } from './config.ts';

/**
 * Modules every config has unless it defines one of the same name, named as in blackbox_exporter's
 * example config so a Prometheus job written for blackbox finds them: the probers' defaults
 * (http_2xx: any 2xx status; tcp_connect: the connection opens; icmp: echo replies; grpc: SERVING).
 */
export const defaultModules: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  http_2xx: { prober: 'http' },
  tcp_connect: { prober: 'tcp' },
  icmp: { prober: 'icmp' },
  grpc: { prober: 'grpc' },
};

/** Labels every scheduled series carries, set by opsctl or Prometheus; a target's own labels may not use them. */
export const reservedLabels: readonly string[] = ['name', 'target', 'module', 'result', 'job', 'instance'];
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const moduleName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const labels = z.record(z.string(), z.string()).superRefine((value, ctx) => {
  for (const key of Object.keys(value)) {
    if (!labelName.test(key) || key.startsWith('__')) {
      ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a Prometheus label name (letters, digits and "_", not starting with a digit or "__")` });
    } else if (reservedLabels.includes(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is reserved (${reservedLabels.join(', ')} are set by opsctl or Prometheus)` });
    }
  }
});

/** A number in [0, 1] (a fraction of the interval) or a duration; resolved against the interval below. */
const jitter = z.union([z.number(), z.string()]).transform((value, ctx): { fraction: number } | { ms: number } => {
  if (typeof value === 'number') {
    if (value >= 0 && value <= 1) return { fraction: value };
  } else {
    const ms = duration().safeParse(value);
    if (ms.success) return { ms: ms.data };
  }
  ctx.addIssue({ code: 'custom', message: `expected a fraction of the interval between 0 and 1 (0.1) or a duration ("2s"), got ${JSON.stringify(value)}` });
  return z.NEVER;
});

const targetSchema = z.strictObject({
  /** Unique; the `name` label of the target's series and its key in the alerting. */
  name: z.string().min(1),
  /** What the prober probes: a URL for http, "host:port" for tcp/tls/grpc, a host for icmp, the server for dns. */
  target: z.string().min(1),
  module: z.string().min(1),
  interval: duration().prefault('30s').refine((ms) => ms >= 100, 'expected an interval of at least 100ms'),
  /** Overrides the module's timeout; must not exceed the interval. */
  timeout: duration().optional(),
  /**
   * A random delay added to each run, at most this much: a fraction of the interval (0.1) or a
   * duration. Default 0: the first runs are already spread over the interval by a hash of the name.
   */
  jitter: jitter.prefault(0),
  labels: labels.default({}),
}).transform((t, ctx) => {
  const jitterMs = 'fraction' in t.jitter ? t.jitter.fraction * t.interval : t.jitter.ms;
  if (jitterMs >= t.interval) ctx.addIssue({ code: 'custom', path: ['jitter'], message: `jitter must be shorter than the interval (${t.interval}ms)` });
  return { ...t, jitter: jitterMs };
});

const modulesSchema = z.preprocess(
  (value) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...defaultModules, ...value } : value ?? { ...defaultModules }),
  z.record(z.string().regex(moduleName, 'expected a module name of letters, digits, "_", "." and "-"'), moduleSchema),
);

/** The whole `probes.toml`. */
export const serviceConfigSchema = z.strictObject({
  /** Where /metrics, /probe, /-/reload, /api/v1/targets, /healthz and /readyz are served (ignored under `opsctl up`). */
  listen: listenAddress().prefault('127.0.0.1:9115'),
  /** Scheduled probes running at once, over all targets; /probe requests are not counted. */
  concurrency: z.number().int().min(1).max(100_000).default(100),
  /** Subtracted from Prometheus' scrape timeout (X-Prometheus-Scrape-Timeout-Seconds) for /probe, as blackbox's --timeout-offset. */
  timeout_offset: duration().prefault('500ms'),
  modules: modulesSchema,
  targets: z.array(targetSchema).default([]),
  alerts: alertsSchema.prefault({}),
}).superRefine((config, ctx) => {
  const seen = new Map<string, number>();
  config.targets.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}" (also targets entry ${first + 1})` });
    else seen.set(t.name, i);
    const module = config.modules[t.module];
    if (module === undefined) {
      const known = Object.keys(config.modules).sort().join(', ');
      ctx.addIssue({ code: 'custom', path: ['targets', i, 'module'], message: `targets entry ${i + 1} ("${t.name}") uses module "${t.module}", which is not defined (modules: ${known})` });
      return;
    }
    const timeout = t.timeout ?? module.timeout;
    if (timeout > t.interval) {
      const from = t.timeout === undefined ? ` (from module "${t.module}")` : '';
      ctx.addIssue({ code: 'custom', path: ['targets', i, t.timeout === undefined ? 'interval' : 'timeout'], message: `timeout ${timeout}ms${from} is longer than the interval ${t.interval}ms: set a shorter timeout or a longer interval` });
    }
  });
}).transform((config) => ({
  ...config,
  targets: config.targets.map((t): ScheduledTarget => ({ ...t, timeout: t.timeout ?? (config.modules[t.module] as ModuleConfig).timeout })),
}));

/** One `[[targets]]` entry as the scheduler runs it: durations in ms, the timeout resolved. */
export interface ScheduledTarget {
  name: string;
  target: string;
  module: string;
  /** ms */
  interval: number;
  /** ms: the target's own or its module's. */
  timeout: number;
  /** ms: the most a run is delayed at random. */
  jitter: number;
  labels: Record<string, string>;
}

export type ServiceConfig = z.output<typeof serviceConfigSchema>;

export interface LoadServiceConfigOptions {
  /** --listen, which wins over the file. */
  listen?: string | undefined;
}

/**
 * Reads and validates a probes.toml; OPS_ERR_CONFIG_* errors name file:line and key.
 * @example const config = loadServiceConfig('probes.toml', { listen: '127.0.0.1:0' });
 */
export function loadServiceConfig(file: string, options: LoadServiceConfigOptions = {}): ServiceConfig {
  return loadConfig({ schema: serviceConfigSchema, file, flags: { listen: options.listen }, flagNames: { listen: '--listen' } });
}
