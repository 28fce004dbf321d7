// meminfo: node_memory_<Field>_bytes from /proc/meminfo, with node_exporter's names.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/**
 * One gauge per /proc/meminfo field, named as node_exporter names them: "Active(anon)" becomes
 * "Active_anon", and fields in kB are multiplied by 1024 and get a `_bytes` suffix
 * (HugePages_Total has no unit and keeps its name).
 */
export function parseMeminfo(text: string): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const [rawKey, rawValue, unit] = parts;
    if (rawKey === undefined || rawValue === undefined || !rawKey.endsWith(':')) continue;
    let value = Number(rawValue);
    if (Number.isNaN(value)) continue;
    let key = rawKey.slice(0, -1).replace(/\((.*)\)/, '_$1');
    if (unit !== undefined) {
      value *= 1024;
      key += '_bytes';
    }
    out.push({
      name: `node_memory_${key}`, help: `Memory information field ${key}.`,
      type: key.endsWith('_total') ? 'counter' : 'gauge', samples: [{ value }],
    });
  }
  return out;
}

export const meminfo = {
  name: 'meminfo',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseMeminfo(await readFile(join(ctx.procfs, 'meminfo'), 'utf8')) }),
} satisfies CollectorDefinition;
