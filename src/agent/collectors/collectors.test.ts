// The pure collector parsers on fixture text, and the shape of the collector map.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MetricFamily } from '../types.ts';
import { parseCpuStat } from './cpu.ts';
import { parseDiskstats } from './diskstats.ts';
import { filesystemFamilies, parseMounts, stripRootfs } from './filesystem.ts';
import { collectors } from './index.ts';
import { parseLoadavg } from './loadavg.ts';
import { parseMeminfo } from './meminfo.ts';
import { parseNetDev } from './netdev.ts';
import { osFamilies, parseOsRelease } from './os.ts';
import { parsePressure, pressureFamilies } from './pressure.ts';
import { parseStat } from './stat.ts';
import { parseTextfile } from './textfile.ts';
import { parseVmstat } from './vmstat.ts';

const fixture = (path: string): string => readFileSync(new URL(`../testdata/fixture/${path}`, import.meta.url), 'utf8');
const value = (families: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined =>
  families.find((f) => f.name === name)?.samples.find((s) => JSON.stringify(s.labels ?? {}) === JSON.stringify(labels))?.value;

test('every map entry is named for its key', () => {
  for (const [key, c] of Object.entries(collectors)) assert.equal(c.name, key);
});

test('cpu: seconds per cpu and mode at USER_HZ 100, no aggregate line', () => {
  const f = parseCpuStat(fixture('proc/stat'));
  assert.equal(f[0]?.name, 'node_cpu_seconds_total');
  assert.equal(f[0]?.samples.length, 16);
  assert.equal(value(f, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' }), 4561.73);
  assert.equal(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'steal' }), 0.15);
});

test('meminfo: node_exporter names, kB to bytes, unitless fields kept', () => {
  const f = parseMeminfo(fixture('proc/meminfo'));
  assert.equal(value(f, 'node_memory_MemTotal_bytes'), 16384000 * 1024);
  assert.equal(value(f, 'node_memory_Active_anon_bytes'), 2000000 * 1024);
  assert.equal(value(f, 'node_memory_Inactive_file_bytes'), 2500000 * 1024);
  assert.equal(value(f, 'node_memory_HugePages_Total'), 0);
  assert.ok(f.every((x) => x.type === 'gauge'));
});

test('loadavg: three gauges; garbage throws', () => {
  const f = parseLoadavg(fixture('proc/loadavg'));
  assert.deepEqual(f.map((x) => [x.name, x.samples[0]?.value]), [['node_load1', 0.52], ['node_load5', 0.71], ['node_load15', 1.05]]);
  assert.throws(() => parseLoadavg('nonsense'));
});

test('stat: boot time, counters and process states', () => {
  const f = parseStat(fixture('proc/stat'));
  assert.equal(value(f, 'node_boot_time_seconds'), 1763790000);
  assert.equal(value(f, 'node_context_switches_total'), 9876543);
  assert.equal(value(f, 'node_forks_total'), 43210);
  assert.equal(value(f, 'node_intr_total'), 4801234);
  assert.equal(value(f, 'node_procs_running'), 3);
  assert.equal(value(f, 'node_procs_blocked'), 1);
});

test('vmstat: only the default fields, untyped', () => {
  const f = parseVmstat(fixture('proc/vmstat'));
  assert.deepEqual(f.map((x) => x.name).sort(), ['node_vmstat_oom_kill', 'node_vmstat_pgfault', 'node_vmstat_pgmajfault', 'node_vmstat_pgpgin', 'node_vmstat_pgpgout', 'node_vmstat_pswpin', 'node_vmstat_pswpout']);
  assert.equal(value(f, 'node_vmstat_oom_kill'), 2);
  assert.ok(f.every((x) => x.type === 'untyped'));
});

test('netdev: a counter per column, per device', () => {
  const f = parseNetDev(fixture('proc/net/dev'));
  assert.equal(f.length, 16);
  assert.equal(value(f, 'node_network_receive_bytes_total', { device: 'eth0' }), 98765432);
  assert.equal(value(f, 'node_network_transmit_drop_total', { device: 'eth0' }), 3);
  assert.equal(value(f, 'node_network_receive_multicast_total', { device: 'eth0' }), 12);
  assert.ok(f.some((x) => x.name === 'node_network_transmit_colls_total'));
});

test('diskstats: partitions and loop devices excluded, sectors and milliseconds converted', () => {
  const f = parseDiskstats(fixture('proc/diskstats'));
  assert.deepEqual(f[0]?.samples.map((s) => s.labels?.device), ['vda', 'nvme0n1']);
  assert.equal(value(f, 'node_disk_read_bytes_total', { device: 'vda' }), 24000000 * 512);
  assert.equal(value(f, 'node_disk_written_bytes_total', { device: 'vda' }), 64000000 * 512);
  assert.equal(value(f, 'node_disk_io_time_seconds_total', { device: 'vda' }), 520);
  assert.equal(value(f, 'node_disk_read_time_seconds_total', { device: 'nvme0n1' }), 2);
  assert.equal(value(f, 'node_disk_io_now', { device: 'nvme0n1' }), 2);
});

test('filesystem: pseudo filesystems and mount points excluded, escapes decoded, errors flagged', () => {
  const mounts = parseMounts(fixture('proc/1/mounts'));
  assert.deepEqual(mounts.map((m) => m.mountpoint), ['/', '/data', '/gone away']);
  assert.equal(mounts[1]?.readonly, true);
  const f = filesystemFamilies([
    { mount: mounts[0]!, stats: { bsize: 4096, blocks: 100, bfree: 50, bavail: 40, files: 1000, ffree: 900 } },
    { mount: mounts[2]!, stats: new Error('ENOENT') },
  ]);
  const root = { device: '/dev/vda', fstype: 'ext4', mountpoint: '/' };
  assert.equal(value(f, 'node_filesystem_size_bytes', root), 409600);
  assert.equal(value(f, 'node_filesystem_avail_bytes', root), 163840);
  assert.equal(value(f, 'node_filesystem_device_error', { device: '/dev/vdc', fstype: 'ext4', mountpoint: '/gone away' }), 1);
  assert.equal(value(f, 'node_filesystem_size_bytes', { device: '/dev/vdc', fstype: 'ext4', mountpoint: '/gone away' }), undefined);
  assert.equal(stripRootfs('/host/', '/host/var'), '/var');
  assert.equal(stripRootfs('/host', '/host'), '/');
  assert.equal(stripRootfs('/', '/var'), '/var');
});

test('pressure: some is waiting, full is stalled, in seconds', () => {
  const p = parsePressure(fixture('proc/pressure/io'));
  assert.deepEqual(p, { some: 46584923, full: 43076240 });
  const f = pressureFamilies('io', p);
  assert.equal(value(f, 'node_pressure_io_waiting_seconds_total'), 46.584923);
  assert.equal(value(f, 'node_pressure_io_stalled_seconds_total'), 43.07624);
});

test('os: os-release quoting, node_os_info labels, numeric version', () => {
  const r = parseOsRelease(fixture('root/etc/os-release'));
  assert.equal(r.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  const f = osFamilies(r);
  assert.equal(f[0]?.samples[0]?.labels?.version_codename, 'bookworm');
  assert.equal(f[0]?.samples[0]?.labels?.variant, '');
  assert.equal(value(f, 'node_os_version', { id: 'debian', id_like: '', name: 'Debian GNU/Linux' }), 12);
  assert.equal(osFamilies({ ID: 'arch' }).length, 1, 'no node_os_version without a numeric VERSION_ID');
});

test('textfile: HELP, TYPE, labels with escapes; bad lines throw', () => {
  const f = parseTextfile(fixture('textfile/backup.prom'), 'backup.prom');
  assert.equal(f[0]?.type, 'gauge');
  assert.equal(value(f, 'backup_last_success_timestamp_seconds', { job: 'db' }), 1763780000);
  assert.equal(f[1]?.type, 'untyped');
  assert.equal(parseTextfile('x{a="q\\"uote",b="c"} 1 1700000000000\n')[0]?.samples[0]?.labels?.a, 'q"uote');
  assert.throws(() => parseTextfile('x{a=unquoted} 1\n'), /cannot parse labels/);
  assert.throws(() => parseTextfile('not a metric line\n'), /cannot parse/);
});
