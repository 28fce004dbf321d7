// vmstat: node_vmstat_<field> for node_exporter's default /proc/vmstat fields.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { single, type CollectorDefinition, type MetricFamily } from '../types.ts';

/** node_exporter's default --collector.vmstat.fields. */
export const defaultVmstatFields = /^(oom_kill|pgpg|pswp|pg.*fault).*/;

/** Untyped families (as node_exporter's) for the /proc/vmstat fields matching `fields`. */
export function parseVmstat(text: string, fields: RegExp = defaultVmstatFields): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const [key, raw] = line.split(' ');
    if (key === undefined || raw === undefined || !fields.test(key)) continue;
    const value = Number(raw);
    if (!Number.isNaN(value)) out.push(single(`node_vmstat_${key}`, `/proc/vmstat information field ${key}.`, 'untyped', value));
  }
  return out;
}

export const vmstat = {
  name: 'vmstat',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseVmstat(await readFile(join(ctx.procfs, 'vmstat'), 'utf8')) }),
} satisfies CollectorDefinition;
