// Process forest (ps --forest / pstree): children under parents, orphans of the selection as roots.
import type { ProcessInfo } from './process.ts';

export interface TreeRow {
  process: ProcessInfo;
  /** Box-drawing prefix for the row, e.g. "│  ├─ ". */
  prefix: string;
  depth: number;
}

/**
 * Orders processes depth-first under their parents. A process whose parent is not in the list
 * is a root, so a filtered list still forms a forest. Siblings keep the input order (sort first).
 */
export function buildForest(processes: readonly ProcessInfo[], ascii = false): TreeRow[] {
  const byPid = new Map<number, ProcessInfo>();
  for (const p of processes) byPid.set(p.pid, p);
  const children = new Map<number, ProcessInfo[]>();
  const roots: ProcessInfo[] = [];
  for (const p of processes) {
    if (p.ppid !== p.pid && byPid.has(p.ppid)) {
      const list = children.get(p.ppid);
      if (list) list.push(p); else children.set(p.ppid, [p]);
    } else {
      roots.push(p);
    }
  }
  const [tee, elbow, pipe, blank] = ascii ? ['|- ', '`- ', '|  ', '   '] : ['├─ ', '└─ ', '│  ', '   '];
  const rows: TreeRow[] = [];
  const seen = new Set<number>();
  // Iterative depth-first walk: deep trees must not overflow the stack.
  const stack: Array<{ p: ProcessInfo; indent: string; last: boolean; depth: number }> = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ p: roots[i] as ProcessInfo, indent: '', last: true, depth: 0 });
  while (stack.length > 0) {
    const { p, indent, last, depth } = stack.pop() as (typeof stack)[number];
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    rows.push({ process: p, prefix: depth === 0 ? '' : indent + (last ? elbow : tee), depth });
    const kids = children.get(p.pid) ?? [];
    const childIndent = depth === 0 ? '' : indent + (last ? blank : pipe);
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push({ p: kids[i] as ProcessInfo, indent: childIndent, last: i === kids.length - 1, depth: depth + 1 });
    }
  }
  return rows;
}
