// The OOM-kill event the watcher reports, and its one-line text form for humans.
import { formatSize } from '../../core/units.ts';

/** Which source saw a kill: the system-wide counter, a cgroup's counter, or the kernel log. */
export type OomSource = 'vmstat' | 'cgroup' | 'kmsg';

/** Where a kill was attributed: to a memory cgroup (not the root one), or only to the machine. */
export type OomScope = 'system' | 'cgroup';

/**
 * One OOM kill. Victim fields (pid, name, uid, rssBytes, constraint, oomCgroup) are present only
 * when /dev/kmsg named the victim; `cgroup` when a cgroup counter or the kernel log placed it.
 */
export interface OomEvent {
  /** When opsctl detected the kill (ISO 8601); detection lags the kill by at most two intervals. */
  time: string;
  scope: OomScope;
  /** The victim's memory cgroup, relative to the controller root ("/system.slice/x.service"). */
  cgroup?: string;
  pid?: number;
  name?: string;
  uid?: number;
  /** Why the OOM killer ran: "memcg" (a cgroup limit), "none" (the machine), "cpuset", "memory_policy". */
  constraint?: string;
  /** The memory cgroup whose limit was hit (memcg OOMs). */
  oomCgroup?: string;
  /** The victim's resident memory when killed, in bytes. */
  rssBytes?: number;
  /** The sources that saw this kill. */
  sources: OomSource[];
}

/**
 * The event as one logfmt-style line.
 * @example formatEventText(e) // '2025-01-02T03:04:05.000Z oom-kill scope=cgroup cgroup=/app pid=42 name=node rss=30MiB'
 */
export function formatEventText(event: OomEvent): string {
  const parts = [event.time, 'oom-kill', `scope=${event.scope}`];
  const add = (key: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    const text = String(value);
    parts.push(`${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`);
  };
  add('cgroup', event.cgroup);
  if (event.pid === undefined) parts.push('victim=unknown');
  add('pid', event.pid);
  add('name', event.name);
  add('uid', event.uid);
  add('rss', event.rssBytes === undefined ? undefined : formatSize(event.rssBytes));
  add('constraint', event.constraint);
  if (event.oomCgroup !== event.cgroup) add('oom_cgroup', event.oomCgroup);
  add('sources', event.sources.join(','));
  return parts.join(' ');
}

