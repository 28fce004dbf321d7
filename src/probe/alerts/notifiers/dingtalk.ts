// DingTalk (钉钉) custom robot: a markdown message, the URL signed with timestamp + HMAC-SHA256
// when a secret is set; errors come back as errcode in a 200 reply.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { facts, headline, type Alert } from '../alert.ts';
import { checkErrcode, postJson } from './http.ts';
import { notifierSchema, type NotifierKind } from './notifier.ts';

const schema = notifierSchema({
  /** The robot's signing secret ("SEC..."), when its security setting is "sign". */
  secret: z.string().min(1).optional(),
});

/** -1: system busy; 130101: sending too fast (20 messages a minute). */
const retryableCodes = new Set([-1, 130101]);

/**
 * The robot URL with `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key secret,
 * "timestamp\nsecret")), as DingTalk's robot security settings document.
 */
export function signedUrl(url: string, secret: string, timestamp: number): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestamp));
  signed.searchParams.set('sign', sign);
  return signed.toString();
}

/** The robot payload of an alert: msgtype markdown, with a title for the notification preview. */
export function dingtalkBody(alert: Alert): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const title = headline(alert);
  const text = [`### ${title}`, '', ...facts(alert).map(([k, v]) => `- **${k}**: ${v}`)].join('\n');
  return { msgtype: 'markdown', markdown: { title, text } };
}

/** `[[alerts.dingtalk]]`: url (https://oapi.dingtalk.com/robot/send?access_token=...), secret. */
export const dingtalk = {
  schema,
  create(config, ctx) {
    return {
      async send(alert, signal) {
        // Signed anew for each attempt: DingTalk rejects timestamps more than an hour old.
        const url = config.secret === undefined ? config.url : signedUrl(config.url, config.secret, ctx.now());
        checkErrcode(await postJson(url, dingtalkBody(alert), { signal }), retryableCodes);
      },
    };
  },
} satisfies NotifierKind<typeof schema>;
