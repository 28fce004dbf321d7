// Generic webhook: the alert as one JSON object, POSTed with optional extra headers.
import { z } from 'zod';
import { alertDurationMs, type Alert } from '../alert.ts';
import { postJson } from './http.ts';
import { notifierSchema, type NotifierKind } from './notifier.ts';

/** RFC 9110 token characters. */
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const schema = notifierSchema({
  /** Extra request headers (an Authorization token, say). */
  headers: z.record(z.string(), z.string()).default({}).superRefine((headers, ctx) => {
    for (const name of Object.keys(headers)) {
      if (!headerName.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `expected an HTTP header name, got "${name}"` });
    }
  }),
});

/** The JSON body, documented field by field in docs/alerts.md. */
export interface WebhookBody {
  version: 1;
  status: Alert['status'];
  kind: Alert['kind'];
  name: string;
  target: string;
  module: string;
  labels: Record<string, string>;
  reason: string;
  since: string;
  endedAt: string | null;
  durationMs: number;
  failures: number;
  startedAt: string;
  probeDurationMs: number;
}

/** The webhook body of an alert. */
export function webhookBody(alert: Alert): WebhookBody {
  return {
    version: 1,
    status: alert.status,
    kind: alert.kind,
    name: alert.name,
    target: alert.target,
    module: alert.module,
    labels: alert.labels,
    reason: alert.reason,
    since: new Date(alert.since).toISOString(),
    endedAt: alert.endedAt === undefined ? null : new Date(alert.endedAt).toISOString(),
    durationMs: alertDurationMs(alert),
    failures: alert.failures,
    startedAt: new Date(alert.startedAt).toISOString(),
    probeDurationMs: alert.probeDurationMs,
  };
}

/** `[[alerts.webhook]]`: url, headers. */
export const webhook = {
  schema,
  create(config, _ctx) {
    return {
      async send(alert, signal) {
        await postJson(config.url, webhookBody(alert), { signal, headers: config.headers });
      },
    };
  },
} satisfies NotifierKind<typeof schema>;
