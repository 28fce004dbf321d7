// The memory cgroup tree under <sysfs>/fs/cgroup: which hierarchy holds the memory controller,
// and the oom_kill counter of every cgroup in it, rescanned each tick to a bounded depth.
import { readdir, readFile } from 'node:fs/promises';
import { errnoCode } from '../../core/errors.ts';
import { parseMemoryEvents, parseOomControl } from './parse.ts';

export type CgroupVersion = 'v1' | 'v2';

/** A mounted hierarchy with the memory controller. */
export interface MemoryHierarchy {
  version: CgroupVersion;
  /** Its mount point ("/sys/fs/cgroup/memory", "/sys/fs/cgroup"). */
  mount: string;
}

/** One cgroup's OOM counters as read now; `cgroup` is relative to the mount ("/a/b", the root is "/"). */
export interface CgroupReading {
  cgroup: string;
  oomKill: number;
  /** The counter includes the kills of descendants (v2 `memory.events` without `.local`). */
  hierarchical: boolean;
  /** v1 only: tasks wait for memory because the OOM killer is disabled for this cgroup. */
  underOom: boolean;
}

/** A cgroup that could not be read for another reason than having gone away. */
export interface CgroupReadError { cgroup: string; code: string }

const gone = new Set(['ENOENT', 'ENODEV', 'ENOTDIR', 'ESRCH']);

/**
 * Finds the hierarchy with the memory controller: cgroup v2 at <sysfs>/fs/cgroup (unified) or
 * <sysfs>/fs/cgroup/unified (hybrid) when its cgroup.controllers lists memory, else the v1 memory
 * controller at <sysfs>/fs/cgroup/memory. Undefined when there is none.
 */
export async function findMemoryHierarchy(sysfs: string): Promise<MemoryHierarchy | undefined> {
  for (const mount of [`${sysfs}/fs/cgroup`, `${sysfs}/fs/cgroup/unified`]) {
    const controllers = await readText(`${mount}/cgroup.controllers`);
    if (controllers?.split(/\s+/).includes('memory')) return { version: 'v2', mount };
  }
  const v1 = `${sysfs}/fs/cgroup/memory`;
  if ((await readText(`${v1}/memory.oom_control`)) !== undefined) return { version: 'v1', mount: v1 };
  return undefined;
}

/**
 * Reads the OOM counters of every memory cgroup from the mount down to `maxDepth` levels below
 * it. A cgroup removed mid-scan is skipped; other read failures are returned in `errors`.
 */
export async function scanCgroups(h: MemoryHierarchy, maxDepth: number): Promise<{ readings: CgroupReading[]; errors: CgroupReadError[] }> {
  const readings: CgroupReading[] = [];
  const errors: CgroupReadError[] = [];
  let level = ['/'];
  for (let depth = 0; level.length > 0; depth++) {
    const children = await Promise.all(level.map(async (cgroup) => {
      const dir = cgroup === '/' ? h.mount : h.mount + cgroup;
      const [reading, subdirs] = await Promise.all([readCounters(h.version, dir, cgroup, errors), depth < maxDepth ? listDirs(dir, cgroup, errors) : []]);
      if (reading) readings.push(reading);
      return subdirs.map((name) => (cgroup === '/' ? `/${name}` : `${cgroup}/${name}`));
    }));
    level = children.flat();
  }
  readings.sort((a, b) => (a.cgroup < b.cgroup ? -1 : a.cgroup > b.cgroup ? 1 : 0));
  return { readings, errors };
}

async function readCounters(version: CgroupVersion, dir: string, cgroup: string, errors: CgroupReadError[]): Promise<CgroupReading | undefined> {
  try {
    if (version === 'v1') {
      const c = parseOomControl(await readFile(`${dir}/memory.oom_control`, 'utf8'));
      return c.oomKill === undefined ? undefined : { cgroup, oomKill: c.oomKill, hierarchical: false, underOom: c.underOom };
    }
    let text = await readText(`${dir}/memory.events.local`);
    const hierarchical = text === undefined;
    text ??= await readFile(`${dir}/memory.events`, 'utf8');
    const e = parseMemoryEvents(text);
    return e.oomKill === undefined ? undefined : { cgroup, oomKill: e.oomKill, hierarchical, underOom: false };
  } catch (err) {
    const code = errnoCode(err) ?? String(err);
    // The v2 root has no memory.events; any cgroup may go away between readdir and read.
    if (!gone.has(code)) errors.push({ cgroup, code });
    return undefined;
  }
}

async function listDirs(dir: string, cgroup: string, errors: CgroupReadError[]): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    const code = errnoCode(err) ?? String(err);
    if (!gone.has(code)) errors.push({ cgroup, code });
    return [];
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Turns successive scans into kills per cgroup. The first scan is the baseline; a cgroup first
 * seen later is new (created after the baseline), so all of its kills count. A counter that went
 * down belongs to a cgroup removed and created again under the same name. Hierarchical counters
 * are made local by subtracting the increases of the children.
 */
export class CgroupCounters {
  #last: Map<string, number> | undefined;

  /** Kills per cgroup since the previous call (none on the first call). */
  update(readings: readonly CgroupReading[]): Array<{ cgroup: string; kills: number }> {
    const last = this.#last;
    this.#last = new Map(readings.map((r) => [r.cgroup, r.oomKill]));
    if (!last) return [];
    const delta = new Map<string, number>();
    for (const r of readings) {
      const before = last.get(r.cgroup) ?? 0;
      delta.set(r.cgroup, r.oomKill >= before ? r.oomKill - before : r.oomKill);
    }
    const children = new Map<string, number>();
    for (const [cgroup, d] of delta) {
      const parent = parentOf(cgroup);
      if (parent !== undefined) children.set(parent, (children.get(parent) ?? 0) + d);
    }
    const out: Array<{ cgroup: string; kills: number }> = [];
    for (const r of readings) {
      const kills = (delta.get(r.cgroup) ?? 0) - (r.hierarchical ? (children.get(r.cgroup) ?? 0) : 0);
      if (kills > 0) out.push({ cgroup: r.cgroup, kills });
    }
    return out;
  }
}

function parentOf(cgroup: string): string | undefined {
  if (cgroup === '/') return undefined;
  const i = cgroup.lastIndexOf('/');
  return i <= 0 ? '/' : cgroup.slice(0, i);
}
