// The alerting's metrics: notifications sent, failed and dropped per notifier, alerts firing.
import { Counter, Gauge, fqName, type Registry } from '../../core/metrics.ts';
import type { AlertStatus } from './alert.ts';

/** The alerting's metric handles. */
export interface AlertMetrics {
  /** Notifications a notifier accepted, by status (reminders and refreshes count as firing). */
  sent: Counter<'notifier' | 'status'>;
  /** Notifications given up: a non-retryable error, or every attempt failed. */
  failed: Counter<'notifier'>;
  /** Failed attempts, retried or not. */
  errors: Counter<'notifier'>;
  /** Notifications dropped unsent: the queue was full, or opsctl stopped first. */
  dropped: Counter<'notifier'>;
  /** Targets whose alert is firing. */
  firing: Gauge;
}

/** A metric already in the registry (a second Alerting after a reload), or a new one. */
function reuse<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/**
 * Registers the metrics, with a zero series for each notifier label so failures show up as
 * increases from 0 rather than as new series.
 */
export function alertMetrics(registry: Registry, notifierLabels: readonly string[]): AlertMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
  const metrics: AlertMetrics = {
    sent: counter(fqName('opsctl', 'probe', 'alerts_sent_total'), 'Alert notifications a notifier accepted, by notifier and status (firing includes reminders).', ['notifier', 'status']),
    failed: counter(fqName('opsctl', 'probe', 'alert_notifications_failed_total'), 'Alert notifications given up after a non-retryable error or the last retry, by notifier.', ['notifier']),
    errors: counter(fqName('opsctl', 'probe', 'alert_notification_errors_total'), 'Failed alert delivery attempts (retried or not), by notifier.', ['notifier']),
    dropped: counter(fqName('opsctl', 'probe', 'alert_notifications_dropped_total'), 'Alert notifications dropped unsent (queue full or shutdown), by notifier.', ['notifier']),
    firing: reuse(registry, fqName('opsctl', 'probe', 'alerts_firing'), () => new Gauge({
      name: fqName('opsctl', 'probe', 'alerts_firing'),
      help: 'Probe targets whose alert is firing.',
      registers: [registry],
    })),
  };
  for (const notifier of notifierLabels) {
    for (const status of ['firing', 'resolved'] satisfies AlertStatus[]) metrics.sent.inc({ notifier, status }, 0);
    metrics.failed.inc({ notifier }, 0);
    metrics.errors.inc({ notifier }, 0);
    metrics.dropped.inc({ notifier }, 0);
  }
  return metrics;
}
