// WeCom (企业微信) group robot: a markdown message; errors come back as errcode in a 200 reply.
import { facts, headline, type Alert } from '../alert.ts';
import { checkErrcode, postJson } from './http.ts';
import { notifierSchema, type NotifierKind } from './notifier.ts';

const schema = notifierSchema({});

/** -1: system busy; 45009: API call rate limit exceeded. */
const retryableCodes = new Set([-1, 45009]);

/** The robot payload of an alert: msgtype markdown (content at most 4096 bytes). */
export function wecomBody(alert: Alert): { msgtype: 'markdown'; markdown: { content: string } } {
  const color = alert.status === 'resolved' ? 'info' : 'warning';
  const lines = [`**<font color="${color}">${headline(alert)}</font>**`, ...facts(alert).map(([k, v]) => `> ${k}: ${v}`)];
  return { msgtype: 'markdown', markdown: { content: cutToBytes(lines.join('\n'), maxContentBytes) } };
}

/** WeCom rejects markdown content over 4096 bytes of UTF-8. */
const maxContentBytes = 4096;

/** The longest prefix of `text` within `max` UTF-8 bytes, never splitting a character. */
export function cutToBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}…`;
}

/** `[[alerts.wecom]]`: url of the robot webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...). */
export const wecom = {
  schema,
  create(config, _ctx) {
    return {
      async send(alert, signal) {
        checkErrcode(await postJson(config.url, wecomBody(alert), { signal }), retryableCodes);
      },
    };
  },
} satisfies NotifierKind<typeof schema>;
