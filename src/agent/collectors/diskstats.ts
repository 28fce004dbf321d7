// diskstats: node_disk_* counters per block device from /proc/diskstats.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/** node_exporter's default --collector.diskstats.device-exclude: partitions, RAM and loop devices. */
export const defaultDiskExclude = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;
const sectorBytes = 512;

// [column after the device name, name, help, type, scale]
const columns: ReadonlyArray<readonly [number, string, string, MetricFamily['type'], number]> = [
  [0, 'node_disk_reads_completed_total', 'The total number of reads completed successfully.', 'counter', 1],
  [1, 'node_disk_reads_merged_total', 'The total number of reads merged.', 'counter', 1],
  [2, 'node_disk_read_bytes_total', 'The total number of bytes read successfully.', 'counter', sectorBytes],
  [3, 'node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 'counter', 0.001],
  [4, 'node_disk_writes_completed_total', 'The total number of writes completed successfully.', 'counter', 1],
  [5, 'node_disk_writes_merged_total', 'The number of writes merged.', 'counter', 1],
  [6, 'node_disk_written_bytes_total', 'The total number of bytes written successfully.', 'counter', sectorBytes],
  [7, 'node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 'counter', 0.001],
  [8, 'node_disk_io_now', 'The number of I/Os currently in progress.', 'gauge', 1],
  [9, 'node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 'counter', 0.001],
  [10, 'node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 'counter', 0.001],
];

/** The node_disk_* families from /proc/diskstats text, skipping devices matching `exclude`. */
export function parseDiskstats(text: string, exclude: RegExp = defaultDiskExclude): MetricFamily[] {
  const families = columns.map(([, name, help, type]): MetricFamily => ({ name, help, type, samples: [] }));
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const device = parts[2];
    if (device === undefined || parts.length < 14 || exclude.test(device)) continue;
    const values = parts.slice(3).map(Number);
    columns.forEach(([index, , , , scale], i) => {
      const v = values[index];
      if (v !== undefined && !Number.isNaN(v)) families[i]?.samples.push({ labels: { device }, value: v * scale });
    });
  }
  return families;
}

export const diskstats = {
  name: 'diskstats',
  defaultEnabled: true,
  create: (ctx) => ({ collect: async () => parseDiskstats(await readFile(join(ctx.procfs, 'diskstats'), 'utf8')) }),
} satisfies CollectorDefinition;
