// Turns one tick of counter increases and kernel-log victims into OOM events, one per kill (pure, no I/O).
//
// Model: counters decide how many kills there were, /dev/kmsg only names them.
// - A cgroup counter increase of N is N kills in that cgroup. Each takes a victim from the kernel
//   log with the same cgroup, else one whose cgroup the log did not say; with none, it waits one
//   tick for the log (the "Killed process" line follows the counter increment) and then fires with
//   the victim unknown.
// - The system-wide vmstat counter counts every kill, those in cgroups too. Its increase minus the
//   cgroup kills of the same tick is the kills no cgroup counter saw (the root cgroup, a cgroup gone
//   before it was read, no cgroup tree at all). Those wait one tick before they fire, because the
//   counters are read one after the other: a kill between two reads shows in vmstat one tick
//   before or after its cgroup, and the surplus of one tick cancels the shortfall of the next.
// - A victim that no counter claims within one tick is dropped (its kill was counted before the
//   watcher's baseline). Without vmstat, such a victim fires as a kill of its own.
// - scope is "cgroup" when the kill is placed in a memory cgroup other than the root, else "system".
import type { OomEvent, OomSource } from './event.ts';
import type { OomKmsgInfo } from './parse.ts';

export interface TickInput {
  /** Detection time of this tick. */
  time: Date;
  /** Increase of the system-wide oom_kill counter since the last tick; undefined when it cannot be read. */
  system: number | undefined;
  /** Kills counted by each cgroup's own counter since the last tick. */
  cgroups: ReadonlyArray<{ cgroup: string; kills: number }>;
  /** OOM lines from the kernel log since the last tick, in order. */
  kmsg: readonly OomKmsgInfo[];
}

export interface CorrelatorOptions {
  /** Whether victims can arrive from the kernel log (when not, counter kills fire at once). */
  kmsg: boolean;
}

interface Victim extends OomKmsgInfo { age: number }
interface CgroupKill { cgroup: string; age: number }

/** How many ticks a victim's pid is remembered after it fired, so its second log line is not a new kill. */
const rememberTicks = 10;

/** Correlates counters and kernel-log victims across ticks; see the header comment for the model. */
export class Correlator {
  readonly #kmsg: boolean;
  #victims: Victim[] = [];
  #cgroupKills: CgroupKill[] = [];
  #pendingSystem = 0;
  #credit = 0;
  #tick = 0;
  readonly #firedPids = new Map<number, number>();

  constructor(options: CorrelatorOptions) {
    this.#kmsg = options.kmsg;
  }

  /** Kills seen by a counter, waiting one tick for their victim or for the other counters. */
  get pending(): number {
    return this.#cgroupKills.length + this.#pendingSystem;
  }

  /** Feeds one tick and returns the events it completes. */
  tick(input: TickInput): OomEvent[] {
    this.#tick++;
    const time = input.time.toISOString();
    const events: OomEvent[] = [];
    const hasVmstat = input.system !== undefined;
    this.#addVictims(input.kmsg);

    const kills = [...this.#cgroupKills];
    let counted = 0;
    for (const c of input.cgroups) {
      counted += c.kills;
      for (let i = 0; i < c.kills; i++) kills.push({ cgroup: c.cgroup, age: 0 });
    }
    this.#cgroupKills = [];
    for (const k of kills) {
      const victim = this.#take((v) => v.cgroup === k.cgroup) ?? this.#take((v) => v.cgroup === undefined);
      if (victim || !this.#kmsg || k.age >= 1) {
        events.push(this.#event(time, victim, k.cgroup, hasVmstat ? ['cgroup', 'vmstat'] : ['cgroup']));
      } else {
        this.#cgroupKills.push({ ...k, age: k.age + 1 });
      }
    }

    if (input.system !== undefined) {
      let extra = input.system - counted;
      let credit = 0;
      if (extra > 0) {
        extra -= Math.min(extra, this.#credit);
      } else if (extra < 0) {
        credit = -extra;
        const c = Math.min(credit, this.#pendingSystem);
        this.#pendingSystem -= c;
        credit -= c;
        extra = 0;
      }
      for (let i = 0; i < this.#pendingSystem; i++) {
        const victim = this.#take(() => true);
        events.push(this.#event(time, victim, undefined, ['vmstat']));
      }
      this.#pendingSystem = extra;
      this.#credit = credit;
    }

    const kept: Victim[] = [];
    for (const v of this.#victims) {
      if (v.age < 1) kept.push({ ...v, age: v.age + 1 });
      else if (!hasVmstat) events.push(this.#event(time, v, undefined, []));
      else this.#firedPids.set(v.pid, this.#tick);
    }
    this.#victims = kept;
    for (const [pid, at] of this.#firedPids) if (this.#tick - at > rememberTicks) this.#firedPids.delete(pid);
    return events;
  }

  #addVictims(infos: readonly OomKmsgInfo[]): void {
    for (const info of infos) {
      if (this.#firedPids.has(info.pid)) continue;
      const i = this.#victims.findIndex((v) => v.pid === info.pid);
      const known = this.#victims[i];
      // The two log lines of one kill each say part of it: the first one's fields win.
      if (known) this.#victims[i] = { ...info, ...known };
      else this.#victims.push({ ...info, age: 0 });
    }
  }

  #take(match: (v: Victim) => boolean): Victim | undefined {
    const i = this.#victims.findIndex(match);
    if (i < 0) return undefined;
    const [victim] = this.#victims.splice(i, 1);
    return victim;
  }

  #event(time: string, victim: Victim | undefined, cgroup: string | undefined, sources: OomSource[]): OomEvent {
    const where = cgroup ?? victim?.cgroup;
    const event: OomEvent = { time, scope: where !== undefined && where !== '/' ? 'cgroup' : 'system', sources };
    if (where !== undefined) event.cgroup = where;
    if (victim) {
      this.#firedPids.set(victim.pid, this.#tick);
      event.pid = victim.pid;
      event.name = victim.name;
      if (victim.uid !== undefined) event.uid = victim.uid;
      if (victim.constraint !== undefined) event.constraint = victim.constraint;
      if (victim.oomCgroup !== undefined) event.oomCgroup = victim.oomCgroup;
      if (victim.rssBytes !== undefined) event.rssBytes = victim.rssBytes;
      event.sources = [...sources, 'kmsg'];
    }
    return event;
  }
}
