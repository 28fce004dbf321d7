// The OOM watcher's metrics, registered once per registry (`opsctl up` and tests share registries).
import { Counter, Gauge, fqName, type Registry } from '../../core/metrics.ts';
import type { OomScope } from './event.ts';

/** Where an error came from: a source the watcher reads, or the webhook it posts to. */
export type OomErrorSource = 'vmstat' | 'cgroup' | 'kmsg' | 'webhook' | 'output';

export interface OomMetrics {
  kills: Counter<'scope'>;
  errors: Counter<'source'>;
  lastKill: Gauge;
  cgroups: Gauge;
  underOom: Gauge;
  deliveries: Counter<'result'>;
}

const scopes: readonly OomScope[] = ['system', 'cgroup'];
const errorSources: readonly OomErrorSource[] = ['vmstat', 'cgroup', 'kmsg', 'webhook', 'output'];

/** The watcher's metrics in `registry`, created on first use; every label value starts at 0. */
export function oomMetrics(registry: Registry): OomMetrics {
  const counter = <L extends string>(name: string, help: string, label: L, values: readonly string[]): Counter<L> => {
    const existing = registry.getSingleMetric(name);
    if (existing) return existing as Counter<L>;
    const c = new Counter({ name, help, labelNames: [label], registers: [registry] });
    for (const v of values) c.inc({ [label]: v } as Partial<Record<L, string>>, 0);
    return c;
  };
  const gauge = (name: string, help: string): Gauge => {
    const existing = registry.getSingleMetric(name);
    if (existing) return existing as Gauge;
    return new Gauge({ name, help, registers: [registry] });
  };
  return {
    kills: counter(fqName('opsctl', 'oom', 'kills_total'), 'OOM kills seen, by scope: "cgroup" when placed in a memory cgroup, else "system".', 'scope', scopes),
    errors: counter(fqName('opsctl', 'oom', 'watch_errors_total'), 'Errors of the OOM watcher, by source (failed reads, lost kernel log records, failed webhook attempts).', 'source', errorSources),
    lastKill: gauge(fqName('opsctl', 'oom', 'last_kill_timestamp_seconds'), 'Unix time of the last OOM kill seen (0: none since start).'),
    cgroups: gauge(fqName('opsctl', 'oom', 'watched_cgroups'), 'Memory cgroups whose OOM counters were read in the last scan.'),
    underOom: gauge(fqName('opsctl', 'oom', 'cgroups_under_oom'), 'Memory cgroups (v1) whose tasks wait for memory because their OOM killer is disabled.'),
    deliveries: counter(fqName('opsctl', 'oom', 'webhook_deliveries_total'), 'OOM events posted to the webhook, by result: "delivered", "failed" after all retries, "dropped" (queue full or shutdown).', 'result', ['delivered', 'failed', 'dropped']),
  };
}
