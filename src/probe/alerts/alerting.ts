// Alerting: feeds each probe result to its target's state machine and hands the notifications it
// calls for to one retrying, bounded queue per notifier, so no notifier can hold up another.
import type { Logger } from 'pino';
import type { Registry } from '../../core/metrics.ts';
import { RetryQueue, type RetryPolicy, type RetryReport } from '../../core/retry.ts';
import type { ProbeResult } from '../types.ts';
import type { Alert } from './alert.ts';
import type { AlertsConfig } from './config.ts';
import { alertMetrics, type AlertMetrics } from './metrics.ts';
import { notifierNames, notifiers, type CommonNotifierConfig, type Notifier, type NotifierKind } from './notifiers/index.ts';
import { initialState, step, type AlertPolicy, type TargetState, type Transition } from './state.ts';

/** A scheduled probe's result with the target's identity, as the alerting sees it. */
export interface ObservedResult extends ProbeResult {
  /** The target's configured name. */
  name: string;
  labels: Record<string, string>;
}

export interface AlertingOptions {
  config: AlertsConfig;
  log: Logger;
  registry: Registry;
  /** Aborting it stops the alerting as stop() does. */
  signal?: AbortSignal | undefined;
  /** The clock, unix ms (default Date.now). */
  now?: (() => number) | undefined;
  /** Backoff between attempts (defaults: 500 ms doubling up to 30 s); attempts and timeout come from each notifier's config. */
  backoff?: Partial<Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>> | undefined;
  /** Notifications waiting per notifier before the oldest is dropped (default 100). */
  maxQueue?: number | undefined;
  /** How long stop() lets deliveries in flight finish before aborting them (default 2 s). */
  stopGraceMs?: number | undefined;
  /** Random number in [0, 1) for backoff jitter (tests fix it). */
  random?: (() => number) | undefined;
  /**
   * The Alerting this one replaces (a config reload): its target states carry over, so firing
   * alerts stay firing without being announced twice and still resolve. Stop it yourself.
   */
  previous?: Alerting | undefined;
}

/** A notifier with its queue and the label its metrics and logs use. */
interface Outlet {
  label: string;
  notifier: Notifier;
  queue: RetryQueue<Alert>;
}

/**
 * Which notifiers hear of a transition: everyone of firing and reminders; only those that hold
 * alerts (Alertmanager) of refreshes; of resolves, everyone when send_resolved, else only those.
 */
export function wants(notifier: Pick<Notifier, 'refreshMs' | 'alwaysResolve'>, kind: Transition['kind'], sendResolved: boolean): boolean {
  switch (kind) {
    case 'firing':
    case 'reminder':
      return true;
    case 'refresh':
      return notifier.refreshMs !== undefined;
    case 'resolved':
      return sendResolved || notifier.alwaysResolve === true;
  }
}

/**
 * Per-target alert state machines and the notifiers they drive.
 * @example
 *   const alerting = new Alerting({ config: cfg.alerts, log, registry, signal });
 *   alerting.observe({ ...result, name: 'web-1', labels: { team: 'web' } }); // never blocks
 *   await alerting.stop();
 */
export class Alerting {
  readonly #policy: AlertPolicy;
  readonly #sendResolved: boolean;
  readonly #log: Logger;
  readonly #metrics: AlertMetrics;
  readonly #now: () => number;
  readonly #stopGraceMs: number;
  readonly #outlets: Outlet[] = [];
  readonly #states = new Map<string, TargetState>();
  #firing = 0;
  #stopping: Promise<void> | undefined;
  #unlisten: () => void = () => undefined;

  constructor(options: AlertingOptions) {
    const { config } = options;
    this.#log = 'component' in options.log.bindings() ? options.log : options.log.child({ component: 'alerts' });
    this.#now = options.now ?? Date.now;
    this.#stopGraceMs = options.stopGraceMs ?? 2000;
    this.#sendResolved = config.send_resolved;
    for (const kind of notifierNames) {
      const tables = config[kind] as readonly CommonNotifierConfig[];
      tables.forEach((table, i) => {
        const label = i === 0 ? kind : `${kind}-${i + 1}`;
        const log = this.#log.child({ notifier: label, endpoint: new URL(table.url).origin });
        const notifier = (notifiers[kind] as NotifierKind).create(table, { log, now: this.#now });
        const queue = new RetryQueue<Alert>({
          deliver: (alert, signal) => notifier.send(alert, signal),
          policy: { ...options.backoff, attempts: table.max_retries + 1, timeoutMs: table.timeout },
          maxQueue: options.maxQueue ?? 100,
          random: options.random,
          report: (r) => this.#report(label, log, r),
        });
        this.#outlets.push({ label, notifier, queue });
      });
    }
    const refreshes = this.#outlets.flatMap((o) => (o.notifier.refreshMs === undefined ? [] : [o.notifier.refreshMs]));
    this.#policy = {
      failureThreshold: config.failure_threshold,
      successThreshold: config.success_threshold,
      reminderIntervalMs: config.reminder_interval,
      refreshIntervalMs: refreshes.length === 0 ? 0 : Math.min(...refreshes),
    };
    this.#metrics = alertMetrics(options.registry, this.#outlets.map((o) => o.label));
    const carried = options.previous === undefined ? [] : options.previous.#states;
    for (const [key, state] of carried) {
      this.#states.set(key, state);
      if (state.phase === 'firing') this.#firing++;
    }
    this.#metrics.firing.set(this.#firing);
    // Void: stop() never rejects. The listener goes at stop(): a reload must not leave the old
    // Alerting hanging on a signal that lives as long as the service.
    const onAbort = (): void => void this.stop();
    if (options.signal?.aborted) void this.stop();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#unlisten = () => options.signal?.removeEventListener('abort', onAbort);
  }

  /** Feeds one result; never blocks on a notifier. */
  observe(result: ObservedResult): void {
    if (this.#stopping) return;
    const key = JSON.stringify([result.name, result.module, result.target]);
    const before = this.#states.get(key) ?? initialState;
    const at = this.#now();
    const { state, events } = step(before, { success: result.success, reason: result.reason, startedAt: result.startedAt, at }, this.#policy);
    this.#states.set(key, state);
    if (before.phase === 'firing' !== (state.phase === 'firing')) {
      this.#firing += state.phase === 'firing' ? 1 : -1;
      this.#metrics.firing.set(this.#firing);
    }
    for (const event of events) this.#notify(event, result, state, at);
  }

  /** Stops taking results, lets deliveries in flight finish for a short grace, then aborts the rest. */
  stop(): Promise<void> {
    this.#unlisten();
    this.#stopping ??= Promise.all(this.#outlets.map((o) => o.queue.stop(this.#stopGraceMs))).then(() => undefined);
    return this.#stopping;
  }

  #notify(event: Transition, result: ObservedResult, state: TargetState, at: number): void {
    const alert: Alert = {
      status: event.kind === 'resolved' ? 'resolved' : 'firing',
      kind: event.kind,
      name: result.name,
      target: result.target,
      module: result.module,
      labels: result.labels,
      reason: event.reason,
      since: event.since,
      endedAt: event.endedAt,
      at,
      failures: state.failures,
      startedAt: result.startedAt,
      probeDurationMs: result.durationMs,
      intervalMs: state.intervalMs,
    };
    const fields = { name: alert.name, target: alert.target, probeModule: alert.module, reason: alert.reason, since: new Date(alert.since).toISOString() };
    if (event.kind === 'firing' || event.kind === 'resolved') this.#log.info(fields, `alert ${event.kind}`);
    else this.#log.debug(fields, `alert ${event.kind}`);
    for (const outlet of this.#outlets) {
      if (wants(outlet.notifier, event.kind, this.#sendResolved)) outlet.queue.push(alert);
    }
  }

  /** Counts and logs each delivery outcome, in one place. */
  #report(notifier: string, log: Logger, r: RetryReport<Alert>): void {
    switch (r.type) {
      case 'delivered':
        this.#metrics.sent.inc({ notifier, status: r.item.status });
        log.debug({ name: r.item.name, kind: r.item.kind, attempt: r.attempt }, 'notification sent');
        return;
      case 'retrying':
        this.#metrics.errors.inc({ notifier });
        log.warn({ name: r.item.name, kind: r.item.kind, attempt: r.attempt, attempts: r.attempts, ...r.error.details, error: r.error.message, retryInMs: r.delayMs }, 'notification attempt failed');
        return;
      case 'failed':
        this.#metrics.errors.inc({ notifier });
        this.#metrics.failed.inc({ notifier });
        log.error({ code: r.error.code, name: r.item.name, kind: r.item.kind, attempt: r.attempt, attempts: r.attempts, retryable: r.error.retryable, ...r.error.details, error: r.error.message }, 'notification failed');
        return;
      case 'dropped':
        this.#metrics.dropped.inc({ notifier }, r.items.length);
        log.warn({ dropped: r.items.length, why: r.why }, 'notifications dropped');
        return;
    }
  }
}
