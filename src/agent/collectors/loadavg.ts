// loadavg: node_load1, node_load5 and node_load15 from /proc/loadavg.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { single, type CollectorDefinition, type MetricFamily } from '../types.ts';

/** The three load averages of /proc/loadavg text; throws on anything else. */
export function parseLoadavg(text: string): MetricFamily[] {
  const values = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (values.length !== 3 || values.some(Number.isNaN)) throw new Error(`unexpected /proc/loadavg: ${text.slice(0, 80)}`);
  return (['1', '5', '15'] as const).map((m, i) => single(`node_load${m}`, `${m}m load average.`, 'gauge', values[i] ?? NaN));
}

export const loadavg = {
  name: 'loadavg',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseLoadavg(await readFile(join(ctx.procfs, 'loadavg'), 'utf8')) }),
} satisfies CollectorDefinition;
