// Every notifier kind, listed once: `[alerts]` builds its `[[alerts.<kind>]]` tables from this map.
import { alertmanager } from './alertmanager.ts';
import { dingtalk } from './dingtalk.ts';
import type { NotifierKind } from './notifier.ts';
import { slack } from './slack.ts';
import { webhook } from './webhook.ts';
import { wecom } from './wecom.ts';

export type { CommonNotifierConfig, Notifier, NotifierContext, NotifierKind } from './notifier.ts';

/** The notifier kinds by config name; adding one is a file plus a line here. */
export const notifiers = { webhook, slack, wecom, dingtalk, alertmanager } satisfies Record<string, NotifierKind>;

export type NotifierName = keyof typeof notifiers;

/** The kinds in a stable order. */
export const notifierNames = Object.keys(notifiers) as NotifierName[];
