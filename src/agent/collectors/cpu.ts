// cpu: node_cpu_seconds_total{cpu,mode} from the per-CPU lines of /proc/stat.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on every Linux ABI node_exporter supports). */
export const userHz = 100;
const modes = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Seconds per CPU and mode from /proc/stat text (guest time is already inside user and nice). */
export function parseCpuStat(text: string): MetricFamily[] {
  const family: MetricFamily = { name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode.', type: 'counter', samples: [] };
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const fields = (m[2] ?? '').trim().split(/\s+/).map(Number);
    modes.forEach((mode, i) => {
      const ticks = fields[i];
      if (ticks !== undefined && !Number.isNaN(ticks)) family.samples.push({ labels: { cpu: m[1] ?? '', mode }, value: ticks / userHz });
    });
  }
  return [family];
}

export const cpu = {
  name: 'cpu',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseCpuStat(await readFile(join(ctx.procfs, 'stat'), 'utf8')) }),
} satisfies CollectorDefinition;
