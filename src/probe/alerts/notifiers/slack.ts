// Slack incoming webhook: a plain-text fallback plus Block Kit sections in mrkdwn.
import { facts, headline, type Alert } from '../alert.ts';
import { postJson } from './http.ts';
import { notifierSchema, type NotifierKind } from './notifier.ts';

const schema = notifierSchema({});

/** Slack's mrkdwn treats &, < and > as markup: they are escaped as its docs say. */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The incoming-webhook payload of an alert. */
export function slackBody(alert: Alert): { text: string; blocks: unknown[] } {
  const icon = alert.status === 'resolved' ? ':large_green_circle:' : ':red_circle:';
  const title = `${icon} ${headline(alert)}`;
  return {
    text: escape(title),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escape(title)}*` } },
      { type: 'section', fields: facts(alert).slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${escape(k)}*\n${escape(v)}` })) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `opsctl probe · ${alert.kind}` }] },
    ],
  };
}

/** `[[alerts.slack]]`: url of an incoming webhook. */
export const slack = {
  schema,
  create(config, _ctx) {
    return {
      async send(alert, signal) {
        await postJson(config.url, slackBody(alert), { signal });
      },
    };
  },
} satisfies NotifierKind<typeof schema>;
