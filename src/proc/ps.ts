// `opsctl ps` without the CLI: read, sample, filter, sort and limit processes.
import { setTimeout as sleep } from 'node:timers/promises';
import { OpsError } from '../core/errors.ts';
import { compile, type Expr } from '../core/expr.ts';
import type { ProcFs } from './procfs.ts';
import { CpuSampler } from './sampler.ts';
import { fieldNames, fields, isFieldName, needsOf, type FieldName, type ProcessInfo } from './process.ts';

export const defaultColumns: readonly FieldName[] = ['pid', 'ppid', 'user', 'state', 'cpu', 'mem', 'rss', 'age', 'cmd'];
export const defaultTreeColumns: readonly FieldName[] = ['pid', 'user', 'state', 'cpu', 'mem', 'rss', 'cmd'];

export interface SortKey { field: FieldName; descending: boolean }

export interface QueryOptions {
  /** Fields to read (columns); the filter's and sort keys' fields are added. */
  columns: readonly FieldName[];
  filter?: Expr | undefined;
  sort?: readonly SortKey[];
  limit?: number | undefined;
  /** CPU sample interval in ms; 0 reports the lifetime average, as ps does. */
  intervalMs: number;
  signal?: AbortSignal | undefined;
}

/** Parses "-o pid,user,cmd"; an unknown name is a usage error listing the known ones. */
export function parseColumns(text: string): FieldName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new OpsError('OPS_ERR_USAGE', `no columns given; known fields: ${fieldNames.join(', ')}`);
  return names.map((n) => {
    if (!isFieldName(n)) throw new OpsError('OPS_ERR_USAGE', `unknown field "${n}"; known fields: ${fieldNames.join(', ')}`);
    return n;
  });
}

/** Parses "--sort -cpu,pid": "-" sorts descending, "+" or nothing ascending. */
export function parseSort(text: string): SortKey[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((key) => {
    const descending = key.startsWith('-');
    const name = key.replace(/^[-+]/, '');
    if (!isFieldName(name)) throw new OpsError('OPS_ERR_USAGE', `cannot sort by unknown field "${name}"; known fields: ${fieldNames.join(', ')}`);
    return { field: name, descending };
  });
}

/** Compiles a --filter expression against the process fields. */
export function compileFilter(source: string): Expr {
  return compile(source, { fields: fieldNames });
}

export function sortProcesses(list: ProcessInfo[], keys: readonly SortKey[]): ProcessInfo[] {
  if (keys.length === 0) return list;
  return list.sort((a, b) => {
    for (const { field, descending } of keys) {
      const x = a[field];
      const y = b[field];
      if (x === y) continue;
      // Missing values go last whichever the direction.
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c = fields[field].kind === 'number' ? (x as number) - (y as number) : String(x) < String(y) ? -1 : 1;
      if (c !== 0) return descending ? -c : c;
    }
    return a.pid - b.pid;
  });
}

/**
 * Reads the processes, samples CPU over the interval, then filters, sorts and limits them.
 * @example await queryProcesses(new ProcFs(), { columns: ['pid', 'cpu'], intervalMs: 200, sort: parseSort('-cpu'), limit: 5 })
 */
export async function queryProcesses(procfs: ProcFs, options: QueryOptions, sampler?: CpuSampler): Promise<ProcessInfo[]> {
  const wanted = new Set<string>([...options.columns, ...(options.filter?.fields ?? []), ...(options.sort ?? []).map((k) => k.field)]);
  const needs = needsOf(wanted);
  let list: ProcessInfo[];
  if (options.intervalMs > 0 && wanted.has('cpu')) {
    const s = sampler ?? new CpuSampler(procfs);
    if (!sampler) {
      s.mark();
      await sleep(options.intervalMs, undefined, { signal: options.signal });
    }
    list = procfs.processes(needs);
    s.update(list);
  } else {
    list = procfs.processes(needs);
  }
  if (options.filter) {
    const test = options.filter.test;
    list = list.filter((p) => test(p));
  }
  sortProcesses(list, options.sort ?? []);
  if (options.limit !== undefined) list = list.slice(0, options.limit);
  return list;
}
