// stat: boot time, context switches, forks, interrupts and process states from /proc/stat.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { single, type CollectorDefinition, type MetricFamily } from '../types.ts';

const fields = {
  btime: ['node_boot_time_seconds', 'Node boot time, in unixtime.', 'gauge'],
  ctxt: ['node_context_switches_total', 'Total number of context switches.', 'counter'],
  processes: ['node_forks_total', 'Total number of forks.', 'counter'],
  intr: ['node_intr_total', 'Total number of interrupts serviced.', 'counter'],
  procs_running: ['node_procs_running', 'Number of processes in runnable state.', 'gauge'],
  procs_blocked: ['node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.', 'gauge'],
} as const satisfies Record<string, readonly [string, string, MetricFamily['type']]>;

/** The node_exporter `stat` families from /proc/stat text (intr: its first, total, column). */
export function parseStat(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const [key, first] = line.split(' ', 2);
    if (key === undefined || first === undefined || !Object.hasOwn(fields, key)) continue;
    const [name, help, type] = fields[key as keyof typeof fields];
    const value = Number(first);
    if (!Number.isNaN(value)) out.push(single(name, help, type, value));
  }
  return out;
}

export const stat = {
  name: 'stat',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseStat(await readFile(join(ctx.procfs, 'stat'), 'utf8')) }),
} satisfies CollectorDefinition;
