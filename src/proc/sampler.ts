// CPU% sampled between two reads of /proc/<pid>/stat, keyed by pid and start time so a reused pid
// never inherits another process's counters.
import type { ProcFs } from './procfs.ts';
import type { ProcessInfo } from './process.ts';

interface Mark { startTicks: number; cpuTicks: number }

/**
 * Holds the previous reading; `update` sets each process's `cpu` to its usage since then.
 * A process with no earlier reading (new, or its pid reused) keeps its lifetime average.
 * @example
 *   const s = new CpuSampler(procfs); s.mark(); await sleep(200); s.update(procfs.processes(needs));
 */
export class CpuSampler {
  readonly #procfs: ProcFs;
  #marks = new Map<number, Mark>();
  #at = 0n;

  constructor(procfs: ProcFs) {
    this.#procfs = procfs;
  }

  /** Records every process's CPU ticks now (reads only /proc/<pid>/stat). */
  mark(): void {
    this.#at = process.hrtime.bigint();
    this.#marks = new Map();
    for (const pid of this.#procfs.pids()) {
      const st = this.#procfs.stat(pid);
      if (st) this.#marks.set(pid, { startTicks: st.starttime, cpuTicks: st.utime + st.stime });
    }
  }

  /** Sets `cpu` on each process from the ticks used since the last mark, then marks these readings. */
  update(processes: ProcessInfo[]): void {
    const now = process.hrtime.bigint();
    const elapsed = Number(now - this.#at) / 1e9;
    const hz = this.#procfs.host().clockTicks;
    const next = new Map<number, Mark>();
    for (const p of processes) {
      const prev = this.#marks.get(p.pid);
      if (prev && prev.startTicks === p.startTicks && elapsed > 0) {
        p.cpu = Math.round((Math.max(0, p.cpuTicks - prev.cpuTicks) / hz / elapsed) * 1000) / 10;
      }
      next.set(p.pid, { startTicks: p.startTicks, cpuTicks: p.cpuTicks });
    }
    this.#marks = next;
    this.#at = now;
  }
}
