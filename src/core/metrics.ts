// Prometheus registry for every tool: one name helper, process/runtime metrics, build info.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { versionInfo } from './version.ts';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * A fully qualified metric name from its parts, Prometheus style: units in the name,
 * counters ending in `_total`. Empty parts are skipped.
 * @example fqName('opsctl', 'oom', 'kills_total') // "opsctl_oom_kills_total"
 */
export function fqName(...parts: string[]): string {
  const name = parts.filter((p) => p !== '').join('_');
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new TypeError(`invalid metric name "${name}"`);
  return name;
}

export interface RegistryOptions {
  /** Process and Node runtime metrics: CPU, memory, heap, event-loop lag, handles (default true). */
  runtime?: boolean;
}

/** A registry with opsctl_build_info and, unless disabled, process and runtime metrics. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.runtime !== false) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
    // prom-client also exports these sums as gauges named *_total, which Prometheus reserves for
    // counters (promtool rejects them); the per-type gauges it keeps carry the same numbers.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const info = versionInfo();
  const build = new Gauge({
    name: fqName('opsctl', 'build_info'),
    help: 'A metric with a constant 1 labelled by the version, commit and Node version opsctl runs on.',
    labelNames: ['version', 'commit', 'nodeversion'] as const,
    registers: [registry],
  });
  build.set({ version: info.version, commit: info.commit, nodeversion: info.node }, 1);
  return registry;
}
