// Runs every scheduled target on its interval: phases spread by a hash of the name, optional jitter,
// a global cap on probes in flight, and a run that waited past its next due time skipped and counted.
import type { Logger } from 'pino';
import { splitModule, type ModuleConfig } from './config.ts';
import { probers as builtinProbers } from './probers/index.ts';
import { runProbe, type RunProbeResult } from './run-probe.ts';
import { Semaphore } from './semaphore.ts';
import type { ScheduledTarget } from './service-config.ts';
import type { Prober } from './types.ts';

export interface SchedulerOptions {
  targets: readonly ScheduledTarget[];
  modules: Readonly<Record<string, ModuleConfig>>;
  /** Probes in flight at once, over all targets. */
  concurrency: number;
  /** Called with every finished probe (never after stop()). */
  onResult: (target: ScheduledTarget, result: RunProbeResult, prober: Prober) => void;
  /** Called when a run is skipped: still waiting for a slot, or the previous run still going, at the next due time. */
  onSkip?: (target: ScheduledTarget, why: 'no slot' | 'previous run') => void;
  /** Probers by name (tests inject fakes); default the probers map. */
  probers?: Readonly<Record<string, Prober>>;
  log?: Logger | undefined;
  /** Stops the scheduler when aborted. */
  signal?: AbortSignal | undefined;
  /** Random numbers in [0, 1) for jitter (default Math.random). */
  random?: () => number;
  /** Wall clock, ms (default Date.now): due times are aligned to it, so phases survive restarts and reloads. */
  now?: () => number;
  /** How long stop() waits for probes in flight after cancelling them (default 5 s). */
  stopTimeoutMs?: number;
}

interface Slot {
  target: ScheduledTarget;
  prober: Prober;
  settings: unknown;
  conditions: ReturnType<typeof splitModule>['conditions'];
  due: number;
  timer?: NodeJS.Timeout | undefined;
  /** Aborted to give up waiting for a slot. */
  waiting?: AbortController | undefined;
  running: boolean;
}

/**
 * A target's phase within its interval, from a hash of its name (FNV-1a): first runs spread
 * evenly over the interval, and a target keeps its phase across restarts and reloads.
 */
export function phaseOf(name: string, intervalMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) % Math.max(1, Math.floor(intervalMs));
}

/**
 * The scheduled half of the probe service.
 * @example
 *   const s = new Scheduler({ targets, modules, concurrency: 100, onResult: (t, r) => record(t, r) });
 *   s.start();
 *   await s.stop();
 */
export class Scheduler {
  readonly #slots: Slot[];
  readonly #semaphore: Semaphore;
  readonly #options: SchedulerOptions;
  readonly #controller = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #random: () => number;
  readonly #now: () => number;
  #started = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#semaphore = new Semaphore(options.concurrency);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    const probers = options.probers ?? builtinProbers;
    this.#slots = options.targets.map((target) => {
      const module = options.modules[target.module];
      if (module === undefined) throw new TypeError(`target "${target.name}": unknown module "${target.module}"`);
      const { prober, settings, conditions } = splitModule(module);
      const impl = probers[prober];
      if (impl === undefined) throw new TypeError(`target "${target.name}": unknown prober "${prober}"`);
      return { target, prober: impl, settings, conditions, due: 0, running: false };
    });
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Probes in flight and waiting for a slot, right now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#semaphore.held, waiting: this.#semaphore.waiting };
  }

  /** Schedules every target's first run at its phase within the current interval. */
  start(): void {
    if (this.#started || this.#controller.signal.aborted) return;
    this.#started = true;
    const now = this.#now();
    for (const slot of this.#slots) {
      const { interval, name } = slot.target;
      const phase = phaseOf(name, interval);
      slot.due = Math.ceil((now - phase) / interval) * interval + phase;
      this.#arm(slot);
    }
  }

  /** Cancels timers, waiters and probes in flight, and waits (bounded) for those probes to end. */
  async stop(): Promise<void> {
    if (!this.#controller.signal.aborted) {
      this.#controller.abort(new Error('scheduler stopped'));
      for (const slot of this.#slots) {
        clearTimeout(slot.timer);
        slot.waiting?.abort();
      }
    }
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.#options.stopTimeoutMs ?? 5000); });
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    clearTimeout(timer);
  }

  #arm(slot: Slot): void {
    const jitter = slot.target.jitter > 0 ? this.#random() * slot.target.jitter : 0;
    slot.timer = setTimeout(() => this.#fire(slot), Math.max(0, slot.due + jitter - this.#now()));
  }

  #fire(slot: Slot): void {
    if (this.#controller.signal.aborted) return;
    // The next due time on the fixed grid, past now even if this timer fired late.
    const now = this.#now();
    const { interval } = slot.target;
    slot.due = Math.max(slot.due + interval, slot.due + Math.ceil((now - slot.due + 1) / interval) * interval);
    this.#arm(slot);
    slot.waiting?.abort();
    if (slot.running) {
      this.#skip(slot, 'previous run');
      return;
    }
    const run = this.#run(slot);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  async #run(slot: Slot): Promise<void> {
    const waiting = new AbortController();
    slot.waiting = waiting;
    const granted = await this.#semaphore.acquire(waiting.signal);
    if (slot.waiting === waiting) slot.waiting = undefined;
    if (!granted) {
      if (!this.#controller.signal.aborted) this.#skip(slot, 'no slot');
      return;
    }
    slot.running = true;
    try {
      const result = await runProbe({
        prober: slot.prober, moduleName: slot.target.module, settings: slot.settings, target: slot.target.target,
        timeoutMs: Math.max(1, Math.ceil(slot.target.timeout)), conditions: slot.conditions, signal: this.#controller.signal,
      });
      // A probe cut short by stop() or a reload says nothing about the target.
      if (!this.#controller.signal.aborted) this.#options.onResult(slot.target, result, slot.prober);
    } catch (err) {
      this.#options.log?.error({ err, target: slot.target.name }, 'probe result handler failed');
    } finally {
      slot.running = false;
      this.#semaphore.release();
    }
  }

  #skip(slot: Slot, why: 'no slot' | 'previous run'): void {
    this.#options.log?.debug({ target: slot.target.name, why }, 'probe skipped');
    this.#options.onSkip?.(slot.target, why);
  }
}
