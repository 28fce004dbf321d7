// Pure parsers for /proc files: text in, values out, no I/O (tested on fixtures in parse.test.ts).

/** The fields of /proc/<pid>/stat that opsctl uses. Times are in clock ticks, memory in pages/bytes as the kernel reports. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  tty: number;
  utime: number;
  stime: number;
  priority: number;
  nice: number;
  threads: number;
  /** Start time after boot, in clock ticks. */
  starttime: number;
  /** Virtual memory size in bytes. */
  vsize: number;
  /** Resident set size in pages. */
  rssPages: number;
}

/**
 * Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces and
 * ")", so fields are read after the last ")". Returns undefined for malformed text.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open || text.charCodeAt(close + 1) !== 32) return undefined;
  // Fields after ")": index 0 is the state. Read the 22 we need by scanning, without split():
  // this runs for every process on every refresh.
  const f: number[] = [0];
  let pos = close + 4;
  for (let i = 1; i < 22; i++) {
    const next = text.indexOf(' ', pos);
    if (next < 0 && i < 21) return undefined;
    const end = next < 0 ? text.length : next;
    f.push(Number(text.slice(pos, end)));
    pos = end + 1;
  }
  const stat: ProcStat = {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: text.charAt(close + 2),
    ppid: f[1] as number, pgrp: f[2] as number, session: f[3] as number, tty: f[4] as number,
    utime: f[11] as number, stime: f[12] as number, priority: f[15] as number, nice: f[16] as number, threads: f[17] as number,
    starttime: f[19] as number, vsize: f[20] as number, rssPages: f[21] as number,
  };
  return Number.isFinite(stat.pid) && Number.isFinite(stat.starttime) && Number.isFinite(stat.ppid) ? stat : undefined;
}

/** /proc/<pid>/status as key -> value (first word of the value for numeric keys is the caller's job). */
export interface ProcStatus {
  name?: string;
  state?: string;
  uid?: number;
  gid?: number;
  threads?: number;
  /** Bytes. */
  vmRss?: number;
  /** Bytes. */
  vmSize?: number;
  [key: string]: string | number | undefined;
}

/** Parses /proc/<pid>/status: every "Key:\tvalue" line, plus typed fields for the common ones. */
export function parseStatus(text: string): ProcStatus {
  const out: ProcStatus = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    out[key] = value;
    switch (key) {
      case 'Name': out.name = value; break;
      case 'State': out.state = value.charAt(0); break;
      case 'Uid': out.uid = Number(value.split(/\s+/)[1] ?? value.split(/\s+/)[0]); break;
      case 'Gid': out.gid = Number(value.split(/\s+/)[1] ?? value.split(/\s+/)[0]); break;
      case 'Threads': out.threads = Number(value); break;
      case 'VmRSS': out.vmRss = kbToBytes(value); break;
      case 'VmSize': out.vmSize = kbToBytes(value); break;
    }
  }
  return out;
}

function kbToBytes(value: string): number {
  return Number(value.split(/\s+/)[0]) * 1024;
}

/** Bytes read and written by a process, from /proc/<pid>/io (readable for own processes or as root). */
export interface ProcIo {
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

export function parseIo(text: string): ProcIo | undefined {
  const kv = keyValues(text);
  const readBytes = kv.get('read_bytes');
  const writeBytes = kv.get('write_bytes');
  if (readBytes === undefined || writeBytes === undefined) return undefined;
  return { rchar: kv.get('rchar') ?? 0, wchar: kv.get('wchar') ?? 0, readBytes, writeBytes };
}

/** /proc/<pid>/cmdline: NUL-separated arguments (a trailing NUL is not an argument). */
export function parseCmdline(text: string): string[] {
  if (text === '') return [];
  const args = text.split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args;
}

/** One line of /proc/<pid>/cgroup: "hierarchy-id:controllers:path". */
export interface CgroupEntry {
  id: number;
  controllers: string[];
  path: string;
}

export function parseCgroup(text: string): CgroupEntry[] {
  const out: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    out.push({ id: Number(line.slice(0, a)), controllers: line.slice(a + 1, b).split(',').filter(Boolean), path: line.slice(b + 1) });
  }
  return out;
}

/**
 * The cgroup path that best identifies a process: the unified (v2) path when it is not the root,
 * else the memory controller's, else name=systemd's, else the first non-root one.
 */
export function primaryCgroup(entries: CgroupEntry[]): string {
  const pick = (pred: (e: CgroupEntry) => boolean): string | undefined => entries.find((e) => pred(e) && e.path !== '/')?.path;
  return pick((e) => e.id === 0) ?? pick((e) => e.controllers.includes('memory')) ??
    pick((e) => e.controllers.includes('name=systemd')) ?? pick(() => true) ?? '/';
}

/** /proc/meminfo in bytes by key ("MemTotal" -> 16777216000). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]) * (line.endsWith('kB') ? 1024 : 1));
  }
  return out;
}

/** /proc/loadavg: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] | undefined {
  const f = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return f.length === 3 && f.every(Number.isFinite) ? (f as [number, number, number]) : undefined;
}

/** /proc/uptime: seconds since boot. */
export function parseUptime(text: string): number | undefined {
  const v = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(v) ? v : undefined;
}

/** /proc/stat: the boot time (btime, unix seconds). */
export function parseBootTime(text: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** /etc/passwd: uid -> user name. */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length >= 3 && f[0] && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]);
  }
  return out;
}

/**
 * /proc/self/auxv (64-bit little-endian pairs of type, value): the clock tick rate (AT_CLKTCK = 17)
 * and page size (AT_PAGESZ = 6) a C program would get from sysconf().
 */
export function parseAuxv(buf: Uint8Array): { clockTicks?: number; pageSize?: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: { clockTicks?: number; pageSize?: number } = {};
  for (let off = 0; off + 16 <= buf.byteLength; off += 16) {
    const type = view.getBigUint64(off, true);
    const value = Number(view.getBigUint64(off + 8, true));
    if (type === 0n) break;
    if (type === 17n) out.clockTicks = value;
    if (type === 6n) out.pageSize = value;
  }
  return out;
}

function keyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), Number(line.slice(colon + 1)));
  }
  return out;
}
