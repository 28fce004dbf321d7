// The alert a notifier receives, and the plain-text pieces every chat notifier shares.
import type { TransitionKind } from './state.ts';

/** What an alert says: a target is failing, or it recovered. */
export type AlertStatus = 'firing' | 'resolved';

/**
 * One notification about one target. Times are unix milliseconds.
 * `kind` says why it was sent: the alert began (`firing`), it is still firing (`reminder`, or
 * `refresh` for notifiers that hold alerts themselves, like Alertmanager), or it ended (`resolved`).
 */
export interface Alert {
  status: AlertStatus;
  kind: TransitionKind;
  /** The target's configured name. */
  name: string;
  /** As configured: a URL, "host:port", a host. */
  target: string;
  module: string;
  labels: Record<string, string>;
  /** Why the target fails (on resolve: why it had failed). */
  reason: string;
  /** When the first failing probe of this alert started. */
  since: number;
  /** Resolved alerts: when the first successful probe of the recovery started. */
  endedAt?: number | undefined;
  /** When this notification was made. */
  at: number;
  /** Consecutive failed probes up to now (0 once it recovered). */
  failures: number;
  /** The latest probe: when it started and how long it took. */
  startedAt: number;
  probeDurationMs: number;
  /** Time between the target's last two results, when known (the probe interval, in effect). */
  intervalMs?: number | undefined;
}

/** How long the target has been failing (firing) or failed (resolved), in ms. */
export function alertDurationMs(alert: Alert): number {
  return Math.max(0, (alert.endedAt ?? alert.at) - alert.since);
}

/** Reasons are probe output: long ones are cut so a chat message stays within its size limit. */
export function shortReason(reason: string, max = 300): string {
  return reason.length <= max ? reason : `${reason.slice(0, max - 1)}…`;
}

/** "2h3m", "45s": a duration for humans, to the second. */
export function humanDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}

/**
 * The one-line headline chat notifiers lead with.
 * @example headline(alert) // "[FIRING] web-1: connection refused" or "[RESOLVED] web-1 after 12m"
 */
export function headline(alert: Alert): string {
  if (alert.status === 'resolved') return `[RESOLVED] ${alert.name} after ${humanDuration(alertDurationMs(alert))}`;
  return `[FIRING] ${alert.name}: ${shortReason(alert.reason, 120)}`;
}

/** The facts of an alert as label/value rows, in the order chat messages show them. */
export function facts(alert: Alert): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['target', alert.target],
    ['module', alert.module],
    [alert.status === 'resolved' ? 'last failure' : 'reason', shortReason(alert.reason)],
    ['since', new Date(alert.since).toISOString()],
  ];
  if (alert.status === 'resolved' && alert.endedAt !== undefined) rows.push(['recovered', new Date(alert.endedAt).toISOString()]);
  else rows.push(['failing for', humanDuration(alertDurationMs(alert))]);
  for (const [k, v] of Object.entries(alert.labels)) rows.push([k, v]);
  return rows;
}
