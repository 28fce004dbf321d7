// netdev: node_network_{receive,transmit}_*_total{device} from /proc/net/dev.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/**
 * One counter family per /proc/net/dev column, named from its header as node_exporter does
 * (`node_network_receive_bytes_total`, `node_network_transmit_colls_total`...).
 */
export function parseNetDev(text: string): MetricFamily[] {
  const lines = text.split('\n');
  const header = lines[1]?.split('|');
  if (header === undefined || header.length < 3) throw new Error('unexpected /proc/net/dev header');
  const rx = (header[1] ?? '').trim().split(/\s+/);
  const tx = (header[2] ?? '').trim().split(/\s+/);
  const columns = [...rx.map((c) => `receive_${c}`), ...tx.map((c) => `transmit_${c}`)];
  const families = columns.map((c): MetricFamily => ({
    name: `node_network_${c}_total`, help: `Network device statistic ${c}.`, type: 'counter', samples: [],
  }));
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const values = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    families.forEach((f, i) => {
      const v = values[i];
      if (v !== undefined && !Number.isNaN(v)) f.samples.push({ labels: { device }, value: v });
    });
  }
  return families;
}

export const netdev = {
  name: 'netdev',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseNetDev(await readFile(join(ctx.procfs, 'net/dev'), 'utf8')) }),
} satisfies CollectorDefinition;
