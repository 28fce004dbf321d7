// OomWatcher: every interval, reads the cgroup and vmstat oom_kill counters and the new kernel-log
// lines, turns them into one event per kill (see correlate.ts for the model), and reports each:
// counted, logged, passed to onEvent, posted to the webhook.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { OpsError, errnoCode } from '../../core/errors.ts';
import type { Registry } from '../../core/metrics.ts';
import { CgroupCounters, findMemoryHierarchy, scanCgroups, type CgroupReading, type MemoryHierarchy } from './cgroups.ts';
import { Correlator } from './correlate.ts';
import type { OomEvent } from './event.ts';
import { KmsgReader } from './kmsg.ts';
import { oomMetrics, type OomErrorSource, type OomMetrics } from './metrics.ts';
import { parseOomMessage, parseVmstat, type OomKmsgInfo } from './parse.ts';
import { WebhookSender, type RetryPolicy } from './webhook.ts';

export interface OomWatcherOptions {
  log: Logger;
  registry: Registry;
  /** Stops the polling loop when aborted (stop() still closes the kernel log and flushes the webhook). */
  signal?: AbortSignal | undefined;
  /** procfs mount point, for vmstat (/proc). */
  procfs: string;
  /** sysfs mount point, for the cgroup tree under fs/cgroup (/sys). */
  sysfs: string;
  /** The kernel log to name victims from (/dev/kmsg), or false not to read one. */
  kmsgPath: string | false;
  /** Time between two polls. */
  intervalMs: number;
  /** Webhook URL each event is POSTed to as JSON, or the URL with a retry policy. */
  webhook?: string | (Partial<RetryPolicy> & { url: string }) | undefined;
  /** Called with each event, in order; a slow callback delays the next poll. */
  onEvent?: ((event: OomEvent) => void | Promise<void>) | undefined;
  /** Log each kill at warn level (default true; the CLI prints events itself). */
  logEvents?: boolean | undefined;
  /** How many levels of cgroups below the root are scanned (default 8). */
  maxDepth?: number | undefined;
}

/** What the watcher reads, known once start() has resolved. */
export interface OomWatchStatus {
  /** Whether <procfs>/vmstat has an oom_kill counter. */
  vmstat: boolean;
  /** The memory cgroup hierarchy and how many cgroups the last scan read. */
  cgroups: (MemoryHierarchy & { count: number }) | undefined;
  /** The kernel log, with the system error when it could not be opened; false when disabled. */
  kmsg: { path: string; error?: string } | false;
}

/**
 * Watches for OOM kills until stopped.
 * @example
 *   const w = new OomWatcher({ log, registry, procfs: '/proc', sysfs: '/sys', kmsgPath: '/dev/kmsg', intervalMs: 1000,
 *     onEvent: (e) => console.log(e) });
 *   await w.start();   // baseline read; kills from now on are reported
 *   await w.stop();
 */
export class OomWatcher {
  readonly #o: OomWatcherOptions;
  readonly #log: Logger;
  readonly #metrics: OomMetrics;
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  readonly #counters = new CgroupCounters();
  readonly #warned = new Set<string>();
  readonly #underOom = new Set<string>();
  readonly #host = hostname();
  #status: OomWatchStatus = { vmstat: false, cgroups: undefined, kmsg: false };
  #kmsg: KmsgReader | undefined;
  #webhook: WebhookSender | undefined;
  #correlator = new Correlator({ kmsg: false });
  #lastVmstat: number | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #started = false;
  /** Whether the baseline poll has run. */
  #polled = false;

  constructor(options: OomWatcherOptions) {
    this.#o = options;
    this.#log = options.log;
    this.#metrics = oomMetrics(options.registry);
    this.#signal = options.signal ? AbortSignal.any([this.#controller.signal, options.signal]) : this.#controller.signal;
  }

  get status(): OomWatchStatus {
    return this.#status;
  }

  /**
   * Opens the kernel log at its end, reads every counter once as the baseline, then polls every
   * interval in the background. OPS_ERR_PROCFS when there is nothing at all to watch.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#o.kmsgPath !== false) this.#openKmsg(this.#o.kmsgPath);
    this.#correlator = new Correlator({ kmsg: this.#kmsg !== undefined });
    const hierarchy = await findMemoryHierarchy(this.#o.sysfs);
    this.#status.cgroups = hierarchy && { ...hierarchy, count: 0 };
    await this.poll();
    this.#status.vmstat = this.#lastVmstat !== undefined;
    if (!this.#status.vmstat && !hierarchy && !this.#kmsg) {
      throw new OpsError('OPS_ERR_PROCFS', `nothing to watch: no oom_kill in ${this.#o.procfs}/vmstat, no memory cgroups under ${this.#o.sysfs}/fs/cgroup, no kernel log`);
    }
    if (this.#o.webhook !== undefined) {
      const hook = typeof this.#o.webhook === 'string' ? { url: this.#o.webhook } : this.#o.webhook;
      this.#webhook = new WebhookSender({ ...hook, log: this.#log.child({ unit: 'webhook' }), metrics: this.#metrics });
    }
    const s = this.#status;
    this.#log.info({
      vmstat: s.vmstat, cgroupVersion: s.cgroups?.version, cgroups: s.cgroups?.count ?? 0,
      kmsg: s.kmsg === false ? false : s.kmsg.error ?? s.kmsg.path, intervalMs: this.#o.intervalMs,
    }, 'watching');
    this.#loop = this.#run();
  }

  /** Polls once now (serialised with the background loop) and returns the events it reported. */
  poll(): Promise<OomEvent[]> {
    const next = this.#busy.then(() => this.#tick());
    this.#busy = next.catch(() => undefined);
    return next;
  }

  /** Stops polling, closes the kernel log, gives the webhook a moment to deliver what is queued. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
    await this.#busy;
    this.#kmsg?.close();
    this.#kmsg = undefined;
    await this.#webhook?.stop();
  }

  async #run(): Promise<void> {
    while (!this.#signal.aborted) {
      try {
        await sleep(this.#o.intervalMs, undefined, { signal: this.#signal });
      } catch {
        return;
      }
      try {
        await this.poll();
      } catch (err) {
        this.#log.error({ err }, 'poll failed');
      }
    }
  }

  #openKmsg(path: string): void {
    try {
      const reader = new KmsgReader(path);
      reader.skipToEnd();
      this.#kmsg = reader;
      this.#status.kmsg = { path };
    } catch (err) {
      const code = errnoCode(err) ?? String(err);
      this.#status.kmsg = { path, error: code };
      this.#log.warn({ path, code }, 'kernel log unreadable, victims will be unknown');
    }
  }

  async #tick(): Promise<OomEvent[]> {
    const time = new Date();
    const baseline = !this.#polled;
    this.#polled = true;
    const cgroups = await this.#readCgroups();
    const system = await this.#readVmstat();
    const kmsg = this.#readKmsg();
    if (baseline) return [];
    const events = this.#correlator.tick({ time, system, cgroups, kmsg });
    for (const event of events) await this.#report(event);
    return events;
  }

  async #readCgroups(): Promise<Array<{ cgroup: string; kills: number }>> {
    const h = this.#status.cgroups;
    if (!h) return [];
    const { readings, errors } = await scanCgroups(h, this.#o.maxDepth ?? 8);
    for (const e of errors) this.#error('cgroup', e.code, { cgroup: e.cgroup });
    h.count = readings.length;
    this.#metrics.cgroups.set(readings.length);
    this.#trackUnderOom(readings);
    return this.#counters.update(readings);
  }

  async #readVmstat(): Promise<number | undefined> {
    let now: number | undefined;
    try {
      now = parseVmstat(await readFile(`${this.#o.procfs}/vmstat`, 'utf8')).get('oom_kill');
    } catch (err) {
      this.#error('vmstat', errnoCode(err) ?? String(err), { path: `${this.#o.procfs}/vmstat` });
    }
    const last = this.#lastVmstat;
    if (now === undefined) return undefined;
    this.#lastVmstat = now;
    return last === undefined ? undefined : Math.max(0, now - last);
  }

  #readKmsg(): OomKmsgInfo[] {
    const reader = this.#kmsg;
    if (!reader) return [];
    const infos: OomKmsgInfo[] = [];
    try {
      const batch = reader.read();
      if (batch.overruns > 0) this.#error('kmsg', 'EPIPE', { lost: batch.overruns });
      for (const r of batch.records) {
        const info = parseOomMessage(r.message);
        if (info) infos.push(info);
      }
    } catch (err) {
      this.#metrics.errors.inc({ source: 'kmsg' });
      this.#log.error({ path: reader.path, err }, 'kernel log read failed, no longer reading it');
      reader.close();
      this.#kmsg = undefined;
    }
    return infos;
  }

  #trackUnderOom(readings: readonly CgroupReading[]): void {
    const now = new Set(readings.filter((r) => r.underOom).map((r) => r.cgroup));
    for (const cgroup of now) {
      if (!this.#underOom.has(cgroup)) this.#log.warn({ cgroup }, 'cgroup under oom with its oom killer disabled');
    }
    this.#underOom.clear();
    for (const cgroup of now) this.#underOom.add(cgroup);
    this.#metrics.underOom.set(now.size);
  }

  /** Counts an error; logs it at warn the first time per source and code, at debug after that. */
  #error(source: OomErrorSource, code: string, fields: Record<string, unknown>): void {
    this.#metrics.errors.inc({ source });
    const key = `${source}:${code}`;
    const level = this.#warned.has(key) ? 'debug' : 'warn';
    this.#warned.add(key);
    this.#log[level]({ source, code, ...fields }, 'read failed');
  }

  /** One kill: counted, logged, handed to onEvent and the webhook. */
  async #report(event: OomEvent): Promise<void> {
    this.#metrics.kills.inc({ scope: event.scope });
    this.#metrics.lastKill.set(Date.parse(event.time) / 1000);
    if (this.#o.logEvents !== false) this.#log.warn({ ...event }, 'oom kill');
    this.#webhook?.send({ ...event, host: this.#host });
    try {
      await this.#o.onEvent?.(event);
    } catch (err) {
      this.#metrics.errors.inc({ source: 'output' });
      this.#log.error({ err }, 'event handler failed');
    }
  }
}
