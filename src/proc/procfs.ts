// Reads processes from a procfs root (default /proc; tests point it at fixtures). Only the files a
// caller needs are read, and a process that exits mid-read is skipped, never an error.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { OpsError, errnoCode } from '../core/errors.ts';
import { cgroupLabels } from './labels.ts';
import {
  parseAuxv, parseBootTime, parseCgroup, parseCmdline, parseIo, parseLoadavg, parseMeminfo, parsePasswd,
  parseStat, parseUptime, primaryCgroup, type ProcStat,
} from './parse.ts';
import type { ProcessInfo } from './process.ts';

/** Optional per-process sources beyond /proc/<pid>/stat. */
export type Need = 'owner' | 'cmdline' | 'io' | 'cgroup';

export interface ProcFsOptions {
  /** procfs mount point (default /proc). */
  root?: string;
  /** passwd file for user names (default /etc/passwd). */
  passwd?: string;
}

/** Facts about the host that every process row needs (read once per ProcFs). */
export interface HostFacts {
  clockTicks: number;
  pageSize: number;
  bootTime: number;
  memTotal: number;
}

/** The host section of a snapshot. */
export interface HostInfo {
  hostname: string;
  kernel: string;
  uptimeSeconds: number;
  bootTime: number;
  load: [number, number, number];
  memory: { total: number; available: number; free: number; swapTotal: number; swapFree: number };
  cpus: number;
}

export class ProcFs {
  readonly root: string;
  readonly #passwdPath: string;
  #buf = Buffer.allocUnsafe(16 * 1024);
  #users: Map<number, string> | undefined;
  #host: HostFacts | undefined;

  constructor(options: ProcFsOptions = {}) {
    this.root = options.root ?? '/proc';
    this.#passwdPath = options.passwd ?? '/etc/passwd';
  }

  /** Every pid in the root, ascending. OPS_ERR_PROCFS when the root itself is unreadable. */
  pids(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      throw new OpsError('OPS_ERR_PROCFS', `cannot read procfs at ${this.root} (${errnoCode(err) ?? String(err)})`, { cause: err });
    }
    const pids: number[] = [];
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c >= 48 && c <= 57) {
        const pid = Number(n);
        if (Number.isInteger(pid)) pids.push(pid);
      }
    }
    return pids.sort((a, b) => a - b);
  }

  /** Clock ticks, page size, boot time and total memory, read once. */
  host(): HostFacts {
    if (this.#host) return this.#host;
    let aux: { clockTicks?: number; pageSize?: number } = {};
    try { aux = parseAuxv(readFileSync(`${this.root}/self/auxv`)); } catch { /* fixtures may lack auxv */ }
    const mem = parseMeminfo(this.readText('meminfo') ?? '');
    this.#host = {
      clockTicks: aux.clockTicks ?? 100,
      pageSize: aux.pageSize ?? 4096,
      bootTime: parseBootTime(this.readText('stat') ?? '') ?? 0,
      memTotal: mem.get('MemTotal') ?? 0,
    };
    return this.#host;
  }

  /** Host facts for a snapshot: hostname, kernel, uptime, load, memory. */
  hostInfo(): HostInfo {
    const mem = parseMeminfo(this.readText('meminfo') ?? '');
    const cpuinfo = this.readText('stat') ?? '';
    return {
      hostname: this.readText('sys/kernel/hostname')?.trim() ?? hostname(),
      kernel: this.readText('sys/kernel/osrelease')?.trim() ?? 'unknown',
      uptimeSeconds: parseUptime(this.readText('uptime') ?? '') ?? 0,
      bootTime: this.host().bootTime,
      load: parseLoadavg(this.readText('loadavg') ?? '') ?? [0, 0, 0],
      memory: {
        total: mem.get('MemTotal') ?? 0,
        available: mem.get('MemAvailable') ?? 0,
        free: mem.get('MemFree') ?? 0,
        swapTotal: mem.get('SwapTotal') ?? 0,
        swapFree: mem.get('SwapFree') ?? 0,
      },
      cpus: (cpuinfo.match(/^cpu\d+ /gm) ?? []).length,
    };
  }

  /** /proc/<pid>/stat parsed, or undefined when the process is gone. */
  stat(pid: number): ProcStat | undefined {
    return this.#statOf(pid, false)?.stat;
  }

  /**
   * One process with the fields the needs ask for; undefined when it exited before or while
   * being read. `cpu` here is the lifetime average (as ps shows it); the sampler replaces it.
   */
  process(pid: number, needs: ReadonlySet<Need>, nowSeconds: number): ProcessInfo | undefined {
    const owner = needs.has('owner');
    const read = this.#statOf(pid, owner);
    if (!read) return undefined;
    const st = read.stat;
    const host = this.host();
    const start = host.bootTime + st.starttime / host.clockTicks;
    const cpuSeconds = (st.utime + st.stime) / host.clockTicks;
    const age = Math.max(0, nowSeconds - start);
    const rss = st.rssPages * host.pageSize;
    const p: ProcessInfo = {
      pid: st.pid, ppid: st.ppid, uid: -1, user: '', state: st.state, name: st.comm, cmd: '',
      threads: st.threads, nice: st.nice,
      cpu: age > 0 ? round1((cpuSeconds / age) * 100) : 0,
      mem: host.memTotal > 0 ? round1((rss / host.memTotal) * 100) : 0,
      rss, vsz: st.vsize, start: Math.round(start), age: Math.round(age), time: round2(cpuSeconds),
      startTicks: st.starttime, cpuTicks: st.utime + st.stime,
    };
    if (owner) {
      p.uid = read.uid;
      p.user = this.userName(p.uid);
    }
    if (needs.has('cmdline')) {
      const raw = this.readText(`${pid}/cmdline`, 'utf8');
      if (raw === undefined) return undefined;
      const args = parseCmdline(raw);
      p.cmd = args.length > 0 ? args.join(' ') : `[${st.comm}]`;
    }
    if (needs.has('io')) {
      const io = parseIo(this.readText(`${pid}/io`) ?? '');
      if (io) { p.read_bytes = io.readBytes; p.write_bytes = io.writeBytes; }
    }
    if (needs.has('cgroup')) {
      const text = this.readText(`${pid}/cgroup`);
      if (text === undefined) return undefined;
      p.cgroup = primaryCgroup(parseCgroup(text));
      Object.assign(p, cgroupLabels(p.cgroup));
    }
    return p;
  }

  /** Every process, skipping those that exit while being read. */
  processes(needs: ReadonlySet<Need>, nowSeconds = Date.now() / 1000): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const pid of this.pids()) {
      const p = this.process(pid, needs, nowSeconds);
      if (p) out.push(p);
    }
    return out;
  }

  userName(uid: number): string {
    if (!this.#users) {
      try { this.#users = parsePasswd(readFileSync(this.#passwdPath, 'utf8')); } catch { this.#users = new Map(); }
    }
    return this.#users.get(uid) ?? String(uid);
  }

  /**
   * Reads a file under the root with one shared buffer (procfs files report size 0, so
   * readFileSync's stat-then-read costs more); undefined when missing or unreadable.
   */
  readText(rel: string, encoding: 'latin1' | 'utf8' = 'latin1'): string | undefined {
    return this.#read(rel, encoding, false)?.text;
  }

  /**
   * One open, one read (a short read is the end: procfs files are generated whole), one close;
   * with `owner`, an fstat of the open file gives the owning uid, which for /proc/<pid>/* is the
   * process's effective uid.
   */
  #read(rel: string, encoding: 'latin1' | 'utf8', owner: boolean): { text: string; uid: number } | undefined {
    let fd: number;
    try {
      fd = openSync(`${this.root}/${rel}`, 'r');
    } catch {
      return undefined;
    }
    try {
      let len = 0;
      for (;;) {
        if (len === this.#buf.length) {
          const bigger = Buffer.allocUnsafe(this.#buf.length * 2);
          this.#buf.copy(bigger);
          this.#buf = bigger;
        }
        const want = this.#buf.length - len;
        const n = readSync(fd, this.#buf, len, want, null);
        len += n;
        if (n < want) break;
      }
      const text = encoding === 'utf8' ? this.#buf.toString('utf8', 0, len) : this.#buf.toString('latin1', 0, len);
      return { text, uid: owner ? fstatSync(fd).uid : -1 };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** /proc/<pid>/stat and, with `owner`, the process's effective uid. */
  #statOf(pid: number, owner: boolean): { stat: ProcStat; uid: number } | undefined {
    const r = this.#read(`${pid}/stat`, 'utf8', owner);
    const stat = r === undefined ? undefined : parseStat(r.text);
    return stat === undefined ? undefined : { stat, uid: (r as { uid: number }).uid };
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
