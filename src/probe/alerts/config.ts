// The `[alerts]` section: thresholds and intervals (defaults here and only here), and one
// `[[alerts.<kind>]]` array of tables per notifier kind, built from the notifiers map.
import { z } from 'zod';
import { duration } from '../../core/config.ts';
import { notifierNames, notifiers } from './notifiers/index.ts';

/** The defaults of `[alerts]`, as written in a config file. */
export const alertDefaults = {
  failure_threshold: 3,
  success_threshold: 2,
  reminder_interval: '1h',
  send_resolved: true,
} as const;

type Kinds = typeof notifiers;
type NotifierTables = { [K in keyof Kinds]: z.ZodDefault<z.ZodArray<Kinds[K]['schema']>> };

function notifierTables(): NotifierTables {
  return Object.fromEntries(notifierNames.map((name) => [name, z.array(notifiers[name].schema).default([])])) as unknown as NotifierTables;
}

/** A duration, or 0 (the number or the string) to turn the feature off. */
function durationOrOff(): z.ZodType<number, string | number> {
  return z.union([duration(), z.literal(0), z.literal('0')]).transform(Number);
}

/**
 * The `[alerts]` section.
 * @example
 *   [alerts]
 *   failure_threshold = 3
 *   [[alerts.webhook]]
 *   url = "http://127.0.0.1:9000/hook"
 */
export const alertsSchema = z.strictObject({
  /** Consecutive failed probes before an alert fires. */
  failure_threshold: z.number().int().min(1).default(alertDefaults.failure_threshold),
  /** Consecutive successful probes before a firing alert resolves. */
  success_threshold: z.number().int().min(1).default(alertDefaults.success_threshold),
  /** How often a firing alert is announced again; 0 turns reminders off. */
  reminder_interval: durationOrOff().prefault(alertDefaults.reminder_interval),
  /** Whether notifiers are told when an alert resolves (Alertmanager always is). */
  send_resolved: z.boolean().default(alertDefaults.send_resolved),
  ...notifierTables(),
});

export type AlertsConfig = z.output<typeof alertsSchema>;
