// Prometheus Alertmanager: alerts POSTed to /api/v2/alerts, re-posted while firing so they do not
// expire, and resolved by posting them again with endsAt set to the recovery time.
import { alertDurationMs, humanDuration, shortReason, type Alert } from '../alert.ts';
import { postJson } from './http.ts';
import { httpUrl, notifierSchema, type NotifierKind } from './notifier.ts';

const schema = notifierSchema({
  /** A link put in each alert's generatorURL (an opsctl status page, a dashboard). */
  generator_url: httpUrl().optional(),
});

/** The alertname of every alert opsctl posts. */
export const alertName = 'ProbeFailed';

/**
 * How often a firing alert is re-posted (at the next probe result after this much time). Each
 * post says the alert holds until 4 refreshes (or 4 probe intervals, if longer) from now, so a
 * missed post or two does not resolve it, and an opsctl that died stops holding it.
 */
export const refreshMs = 60_000;

/** A label name Alertmanager accepts: [a-zA-Z_][a-zA-Z0-9_]*. */
function labelName(name: string): string {
  const clean = name.replaceAll(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

/** One postable alert of the v2 API. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * The v2 alert: labels alertname="ProbeFailed", target (the configured name), instance (the
 * target as configured), module, and the target's own labels; annotations summary, description
 * and reason; endsAt in the future while firing, the recovery time once resolved.
 */
export function alertmanagerAlert(alert: Alert, generatorUrl?: string): PostableAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(alert.labels)) if (v !== '') labels[labelName(k)] = v;
  Object.assign(labels, { alertname: alertName, target: alert.name, instance: alert.target, module: alert.module });
  const holdMs = 4 * Math.max(refreshMs, alert.intervalMs ?? 0);
  const endsAt = alert.status === 'resolved' ? (alert.endedAt ?? alert.at) : alert.at + holdMs;
  const reason = shortReason(alert.reason, 1000);
  const out: PostableAlert = {
    labels,
    annotations: {
      summary: `Probe ${alert.name} (${alert.module}) ${alert.status === 'resolved' ? 'failed' : 'is failing'}: ${shortReason(alert.reason, 120)}`,
      description: `${alert.module} probe of ${alert.target} ${alert.status === 'resolved' ? 'failed' : 'has been failing'} for ${humanDuration(alertDurationMs(alert))}, since ${new Date(alert.since).toISOString()}: ${reason}`,
      reason,
    },
    startsAt: new Date(alert.since).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
  };
  if (generatorUrl !== undefined) out.generatorURL = generatorUrl;
  return out;
}

/** The API endpoint under a base URL (which may have a path prefix, like a reverse proxy's). */
export function alertsEndpoint(base: string): string {
  return new URL('api/v2/alerts', base.endsWith('/') ? base : `${base}/`).toString();
}

/** `[[alerts.alertmanager]]`: url (base, e.g. http://127.0.0.1:9093), generator_url. */
export const alertmanager = {
  schema,
  create(config, _ctx) {
    const endpoint = alertsEndpoint(config.url);
    return {
      refreshMs,
      alwaysResolve: true,
      async send(alert, signal) {
        await postJson(endpoint, [alertmanagerAlert(alert, config.generator_url)], { signal });
      },
    };
  },
} satisfies NotifierKind<typeof schema>;
