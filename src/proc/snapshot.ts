// Host snapshots (host facts + every process with every field) and the diff of two of them.
import { readFileSync } from 'node:fs';
import { OpsError, errnoCode } from '../core/errors.ts';
import { formatSize } from '../core/units.ts';
import type { HostInfo, ProcFs } from './procfs.ts';
import { fieldNames, pick, type ProcessInfo } from './process.ts';
import { queryProcesses } from './ps.ts';

export const snapshotKind = 'opsctl.snapshot';
export const snapshotVersion = 1;

export interface Snapshot {
  kind: typeof snapshotKind;
  version: number;
  takenAt: string;
  host: HostInfo;
  processes: Array<Partial<ProcessInfo> & { pid: number; start: number }>;
}

/** Takes a snapshot with every field, CPU sampled over the interval. */
export async function takeSnapshot(procfs: ProcFs, intervalMs: number, signal?: AbortSignal): Promise<Snapshot> {
  const list = await queryProcesses(procfs, { columns: fieldNames, intervalMs, signal });
  return {
    kind: snapshotKind,
    version: snapshotVersion,
    takenAt: new Date().toISOString(),
    host: procfs.hostInfo(),
    processes: list.map((p) => pick(p, fieldNames) as Snapshot['processes'][number]),
  };
}

/** Reads and checks a snapshot file; OPS_ERR_SNAPSHOT_READ names the file and what is wrong. */
export function readSnapshot(file: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpsError('OPS_ERR_SNAPSHOT_READ', `${file}: cannot read (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new OpsError('OPS_ERR_SNAPSHOT_READ', `${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const s = data as Partial<Snapshot> | null;
  if (s === null || typeof s !== 'object' || s.kind !== snapshotKind || !Array.isArray(s.processes)) {
    throw new OpsError('OPS_ERR_SNAPSHOT_READ', `${file}: not an opsctl snapshot (expected "kind": "${snapshotKind}" and a "processes" array)`);
  }
  if (s.version !== snapshotVersion) {
    throw new OpsError('OPS_ERR_SNAPSHOT_READ', `${file}: snapshot version ${String(s.version)} is not supported (this opsctl reads version ${snapshotVersion})`);
  }
  for (const [i, p] of s.processes.entries()) {
    if (typeof p?.pid !== 'number' || typeof p.start !== 'number') {
      throw new OpsError('OPS_ERR_SNAPSHOT_READ', `${file}: processes[${i}] lacks a numeric pid and start`);
    }
  }
  return s as Snapshot;
}

export interface ProcessRef { pid: number; name?: string | undefined; cmd?: string | undefined; user?: string | undefined }
export interface Change extends ProcessRef { before: number; after: number; delta: number }

export interface SnapshotDiff {
  from: string;
  to: string;
  started: ProcessRef[];
  gone: ProcessRef[];
  /** CPU seconds used between the snapshots, largest first. */
  cpu: Change[];
  /** RSS change in bytes, largest absolute change first. */
  rss: Change[];
}

/**
 * Compares two snapshots. A process is the same in both when pid and start time match, so a
 * reused pid reads as one process gone and another started.
 */
export function diffSnapshots(a: Snapshot, b: Snapshot, top = 10): SnapshotDiff {
  const key = (p: { pid: number; start: number }): string => `${p.pid}@${p.start}`;
  const before = new Map(a.processes.map((p) => [key(p), p]));
  const after = new Map(b.processes.map((p) => [key(p), p]));
  const ref = (p: Snapshot['processes'][number]): ProcessRef => ({ pid: p.pid, name: p.name, user: p.user, cmd: p.cmd });
  const started = b.processes.filter((p) => !before.has(key(p))).map(ref);
  const gone = a.processes.filter((p) => !after.has(key(p))).map(ref);
  const cpu: Change[] = [];
  const rss: Change[] = [];
  for (const [k, q] of after) {
    const p = before.get(k);
    if (!p) continue;
    if (typeof p.time === 'number' && typeof q.time === 'number') {
      cpu.push({ ...ref(q), before: p.time, after: q.time, delta: Math.round((q.time - p.time) * 100) / 100 });
    }
    if (typeof p.rss === 'number' && typeof q.rss === 'number') {
      rss.push({ ...ref(q), before: p.rss, after: q.rss, delta: q.rss - p.rss });
    }
  }
  cpu.sort((x, y) => y.delta - x.delta);
  rss.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
  return {
    from: a.takenAt, to: b.takenAt, started, gone,
    cpu: cpu.filter((c) => c.delta > 0).slice(0, top),
    rss: rss.filter((c) => c.delta !== 0).slice(0, top),
  };
}

/** The diff for humans. */
export function renderDiff(d: SnapshotDiff): string {
  const label = (p: ProcessRef): string => [String(p.pid).padStart(7), p.user, p.cmd || p.name].filter(Boolean).join('  ');
  const out: string[] = [`snapshot diff ${d.from} -> ${d.to}`];
  out.push('', `started (${d.started.length}):`, ...d.started.map((p) => `  + ${label(p)}`));
  out.push('', `gone (${d.gone.length}):`, ...d.gone.map((p) => `  - ${label(p)}`));
  out.push('', 'most CPU used between snapshots:', ...d.cpu.map((c) => `  ${`${c.delta.toFixed(2)}s`.padStart(10)}  ${label(c)}`));
  out.push('', 'largest RSS changes:', ...d.rss.map((c) => {
    const sign = c.delta > 0 ? '+' : '-';
    return `  ${`${sign}${formatSize(Math.abs(c.delta))}`.padStart(10)}  ${label(c)}`;
  }));
  return `${out.join('\n')}\n`;
}
