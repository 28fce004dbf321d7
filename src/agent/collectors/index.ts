// The one list of agent collectors: flags, defaults and the scrape are all built from this map.
import type { Collector, CollectorContext, CollectorDefinition } from '../types.ts';
import { cpu } from './cpu.ts';
import { diskstats } from './diskstats.ts';
import { filesystem } from './filesystem.ts';
import { loadavg } from './loadavg.ts';
import { meminfo } from './meminfo.ts';
import { netdev } from './netdev.ts';
import { os } from './os.ts';
import { pressure } from './pressure.ts';
import { stat } from './stat.ts';
import { textfile } from './textfile.ts';
import { time } from './time.ts';
import { uname } from './uname.ts';
import { vmstat } from './vmstat.ts';

/** Every collector by name; each key equals its entry's `name`. */
export const collectors = {
  cpu, diskstats, filesystem, loadavg, meminfo, netdev, os, pressure, stat, textfile, time, uname, vmstat,
} satisfies Record<string, CollectorDefinition>;

/** A collector's name. */
export type CollectorName = keyof typeof collectors;

/** Builds the named collectors (in map order) with one context. */
export function createCollectors(names: Iterable<string>, ctx: CollectorContext): Map<string, Collector> {
  const wanted = new Set(names);
  const out = new Map<string, Collector>();
  for (const [name, def] of Object.entries(collectors) as Array<[string, CollectorDefinition]>) {
    if (wanted.has(name)) out.set(name, def.create({ ...ctx, log: ctx.log.child({ collector: name }) }));
  }
  return out;
}
