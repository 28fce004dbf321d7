// Pure parsers for the OOM watcher's sources: /proc/vmstat, cgroup memory files, /dev/kmsg records.

/**
 * Parses /proc/vmstat ("name value" per line) into a map. Lines that are not a name and an
 * integer are skipped.
 * @example parseVmstat('nr_free_pages 1\noom_kill 3\n').get('oom_kill') // 3
 */
export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s*$/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

/** The counters of a cgroup v2 `memory.events` (or `memory.events.local`) file. */
export interface MemoryEvents {
  low: number;
  high: number;
  max: number;
  /** Times the cgroup hit its limit and the OOM killer was about to run. */
  oom: number;
  /** Processes of this cgroup killed by any OOM killer; undefined when the kernel does not report it. */
  oomKill: number | undefined;
  /** Group kills (memory.oom.group); undefined on kernels without it. */
  oomGroupKill: number | undefined;
}

/** Parses a cgroup v2 `memory.events` file. Missing counters read 0 (oom_kill: undefined). */
export function parseMemoryEvents(text: string): MemoryEvents {
  const kv = parseVmstat(text);
  return {
    low: kv.get('low') ?? 0,
    high: kv.get('high') ?? 0,
    max: kv.get('max') ?? 0,
    oom: kv.get('oom') ?? 0,
    oomKill: kv.get('oom_kill'),
    oomGroupKill: kv.get('oom_group_kill'),
  };
}

/** A cgroup v1 `memory.oom_control` file. */
export interface OomControl {
  /** The OOM killer is disabled for this cgroup: tasks hitting the limit wait instead of being killed. */
  oomKillDisable: boolean;
  /** Tasks of this cgroup are waiting for memory right now (only with the OOM killer disabled). */
  underOom: boolean;
  /** OOM kills of this cgroup's own tasks (kernel 4.13+); undefined on older kernels. */
  oomKill: number | undefined;
}

/** Parses a cgroup v1 `memory.oom_control` file. */
export function parseOomControl(text: string): OomControl {
  const kv = parseVmstat(text);
  return { oomKillDisable: kv.get('oom_kill_disable') === 1, underOom: kv.get('under_oom') === 1, oomKill: kv.get('oom_kill') };
}

/** One /dev/kmsg record: `prio,seq,usec,flags[,...];message`. */
export interface KmsgRecord {
  /** Syslog severity, 0 (emerg) to 7 (debug). */
  level: number;
  facility: number;
  seq: number;
  /** Microseconds since boot (the kernel's monotonic log clock). */
  usec: number;
  /** "-" for a complete record, "c" for a continuation. */
  flags: string;
  /** The message with the kernel's \xHH escapes decoded. */
  message: string;
}

/**
 * Parses one /dev/kmsg record; undefined for anything else (including the " KEY=value"
 * dictionary lines that may follow a record).
 * @example parseKmsgRecord('3,431,1885630451,-;Memory cgroup out of memory: Killed process 5588 (node) ...')
 */
export function parseKmsgRecord(line: string): KmsgRecord | undefined {
  const semi = line.indexOf(';');
  if (semi < 0) return undefined;
  const head = line.slice(0, semi).split(',');
  if (head.length < 4) return undefined;
  const prio = Number(head[0]);
  const seq = Number(head[1]);
  const usec = Number(head[2]);
  if (!Number.isInteger(prio) || !Number.isInteger(seq) || !Number.isFinite(usec) || head[0] === '' || head[1] === '') return undefined;
  const message = line.slice(semi + 1).replace(/\n$/, '').replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return { level: prio & 7, facility: prio >> 3, seq, usec, flags: head[3] ?? '-', message };
}

/** What the kernel says about one OOM kill; a kill is logged in two lines that each give part of it. */
export interface OomKmsgInfo {
  pid: number;
  /** The victim's command name (comm, at most 15 characters). */
  name: string;
  uid?: number;
  /** The victim's memory cgroup, relative to the controller root ("/system.slice/x.service"). */
  cgroup?: string;
  /** The memory cgroup whose limit was hit (memcg OOMs only). */
  oomCgroup?: string;
  /** Why the OOM killer ran: "memcg" (a cgroup limit), "none" (the whole machine), "cpuset", "memory_policy". */
  constraint?: string;
  /** Resident memory (anon + file + shmem) of the victim when it was killed, in bytes. */
  rssBytes?: number;
  /** Virtual memory of the victim when it was killed, in bytes. */
  totalVmBytes?: number;
}

const summaryLine = /^oom-kill:constraint=CONSTRAINT_(\w+),.*?(?:,oom_memcg=(.*?))?,task_memcg=(.*),task=(.*),pid=(\d+),uid=(\d+)$/;
const killedLine = /(?:^|: )Killed process (\d+) \((.*)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB(?:, UID:(\d+))?/;
const killedLineShort = /(?:^|: )Killed process (\d+) \((.*)\)$/;

/**
 * Recognises the kernel's two lines about an OOM kill, and nothing else (the oom_reaper's
 * "reaped process" line and the memory dump are not kills):
 * - `oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/a,task_memcg=/a/b,task=name,pid=1234,uid=0`
 * - `Memory cgroup out of memory: Killed process 1234 (name) total-vm:...kB, anon-rss:...kB, ...`
 *   (or `Out of memory: Killed process ...` for a machine-wide OOM)
 */
export function parseOomMessage(message: string): OomKmsgInfo | undefined {
  const s = summaryLine.exec(message);
  if (s) {
    const info: OomKmsgInfo = { pid: Number(s[5]), name: s[4] as string, uid: Number(s[6]), cgroup: s[3], constraint: (s[1] as string).toLowerCase() };
    if (s[2] !== undefined) info.oomCgroup = s[2];
    return info;
  }
  const k = killedLine.exec(message);
  if (k) {
    const kb = (i: number): number => Number(k[i]) * 1024;
    const info: OomKmsgInfo = { pid: Number(k[1]), name: k[2] as string, totalVmBytes: kb(3), rssBytes: kb(4) + kb(5) + kb(6) };
    if (k[7] !== undefined) info.uid = Number(k[7]);
    if (message.startsWith('Memory cgroup out of memory')) info.constraint = 'memcg';
    return info;
  }
  const short = killedLineShort.exec(message);
  if (short) return { pid: Number(short[1]), name: short[2] as string };
  return undefined;
}
