// The process record and its fields: the one map that columns, sorting, filters and exports read.
import { formatDuration, formatSize } from '../core/units.ts';
import type { Need } from './procfs.ts';

/** One process, as opsctl reports it. Sizes in bytes, times in seconds, cpu and mem in percent. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  user: string;
  state: string;
  name: string;
  cmd: string;
  threads: number;
  nice: number;
  /** Percent of one CPU: sampled over an interval, or the lifetime average when not sampled. */
  cpu: number;
  mem: number;
  rss: number;
  vsz: number;
  /** Start time, unix seconds. */
  start: number;
  age: number;
  /** CPU time used (user + system), seconds. */
  time: number;
  read_bytes?: number;
  write_bytes?: number;
  cgroup?: string;
  unit?: string;
  slice?: string;
  container?: string;
  runtime?: string;
  pod?: string;
  /** Start time in clock ticks after boot: with the pid, the identity that survives pid reuse. */
  startTicks: number;
  cpuTicks: number;
}

export type FieldKind = 'number' | 'string';

export interface FieldDef {
  header: string;
  kind: FieldKind;
  help: string;
  /** Sources beyond /proc/<pid>/stat this field needs. */
  needs?: Need;
  /** Human rendering for the table; raw values go to JSON and CSV. */
  format?: (value: number) => string;
  /** Right-aligned in the table (numbers). */
  right?: boolean;
}

const pct = (v: number): string => v.toFixed(1);
const size = (v: number): string => formatSize(v);
const clock = (v: number): string => {
  const d = new Date(v * 1000);
  const today = new Date();
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return d.toDateString() === today.toDateString() ? hhmm : `${d.toLocaleString('en', { month: 'short' })}${String(d.getDate()).padStart(2, '0')}`;
};
const cputime = (v: number): string => {
  const s = Math.floor(v);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** Every field a process has, by the name users type in -o, --sort and --filter. */
export const fields = {
  pid: { header: 'PID', kind: 'number', right: true, help: 'process id' },
  ppid: { header: 'PPID', kind: 'number', right: true, help: 'parent process id' },
  user: { header: 'USER', kind: 'string', needs: 'owner', help: 'user name (effective uid)' },
  uid: { header: 'UID', kind: 'number', right: true, needs: 'owner', help: 'effective user id' },
  state: { header: 'S', kind: 'string', help: 'R running, S sleeping, D disk wait, Z zombie, T stopped, I idle' },
  name: { header: 'NAME', kind: 'string', help: 'command name (comm, at most 15 characters)' },
  cmd: { header: 'COMMAND', kind: 'string', needs: 'cmdline', help: 'full command line ([name] for kernel threads)' },
  threads: { header: 'THR', kind: 'number', right: true, help: 'number of threads' },
  nice: { header: 'NI', kind: 'number', right: true, help: 'nice value' },
  cpu: { header: '%CPU', kind: 'number', right: true, format: pct, help: 'percent of one CPU over the sample interval' },
  mem: { header: '%MEM', kind: 'number', right: true, format: pct, help: 'resident memory as a percent of the host total' },
  rss: { header: 'RSS', kind: 'number', right: true, format: size, help: 'resident set size, bytes (filter with sizes: rss>200MiB)' },
  vsz: { header: 'VSZ', kind: 'number', right: true, format: size, help: 'virtual memory size, bytes' },
  start: { header: 'START', kind: 'number', right: true, format: clock, help: 'start time, unix seconds' },
  age: { header: 'AGE', kind: 'number', right: true, format: formatDuration, help: 'seconds since start (filter with durations: age<5m)' },
  time: { header: 'TIME', kind: 'number', right: true, format: cputime, help: 'CPU time used, seconds' },
  read_bytes: { header: 'READ', kind: 'number', right: true, format: size, needs: 'io', help: 'bytes read from storage (own processes, or as root)' },
  write_bytes: { header: 'WRITE', kind: 'number', right: true, format: size, needs: 'io', help: 'bytes written to storage (own processes, or as root)' },
  cgroup: { header: 'CGROUP', kind: 'string', needs: 'cgroup', help: 'cgroup path (unified, else memory controller)' },
  unit: { header: 'UNIT', kind: 'string', needs: 'cgroup', help: 'systemd unit, from the cgroup path' },
  slice: { header: 'SLICE', kind: 'string', needs: 'cgroup', help: 'systemd slice, from the cgroup path' },
  container: { header: 'CONTAINER', kind: 'string', needs: 'cgroup', help: 'container id (docker, containerd, cri-o, podman)' },
  runtime: { header: 'RUNTIME', kind: 'string', needs: 'cgroup', help: 'container runtime' },
  pod: { header: 'POD', kind: 'string', needs: 'cgroup', help: 'Kubernetes pod uid' },
} as const satisfies Record<string, FieldDef>;

export type FieldName = keyof typeof fields;
export const fieldNames = Object.keys(fields) as FieldName[];

export function isFieldName(name: string): name is FieldName {
  return Object.hasOwn(fields, name);
}

/** The sources a set of fields needs. */
export function needsOf(names: Iterable<string>): Set<Need> {
  const needs = new Set<Need>();
  for (const n of names) {
    const def: FieldDef | undefined = isFieldName(n) ? fields[n] : undefined;
    if (def?.needs) needs.add(def.needs);
  }
  return needs;
}

/** A field's value rendered for the table. */
export function formatField(p: ProcessInfo, name: FieldName): string {
  const value = p[name];
  if (value === undefined) return '-';
  const def: FieldDef = fields[name];
  if (typeof value === 'number' && def.format) return def.format(value);
  if (name === 'container' && typeof value === 'string') return value.slice(0, 12);
  return String(value);
}

/** The record with only the named fields, for JSON, NDJSON and CSV. */
export function pick(p: ProcessInfo, names: readonly FieldName[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = p[n] ?? null;
  return out;
}
