// The `[oom]` section of the opsctl config: whether and how often to watch, where to post events.
import { z } from 'zod';
import { duration } from '../../core/config.ts';

/**
 * The OOM watcher's config section; unknown keys are errors.
 * @example
 *   [oom]
 *   enabled = true
 *   interval = "1s"
 *   kmsg = true
 *   webhook = "http://127.0.0.1:9000/hook"
 */
export const oomConfigSchema = z.strictObject({
  /** Run the watcher under `opsctl up`. */
  enabled: z.boolean().default(true),
  /** Time between two reads of the counters, in milliseconds once parsed. */
  interval: duration().refine((ms) => ms >= 10, 'expected an interval of at least 10ms').prefault('1s'),
  /** POST each event as JSON here (retried with backoff). */
  webhook: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  /** Name the victims from /dev/kmsg where it is readable. */
  kmsg: z.boolean().default(true),
});

export type OomConfig = z.output<typeof oomConfigSchema>;

/** The watcher's options under `opsctl up` when the section enables it. */
export function oomFromSection(c: OomConfig): { procfs: string; sysfs: string; kmsgPath: string | false; intervalMs: number; webhook: string | undefined } | undefined {
  if (!c.enabled) return undefined;
  return { intervalMs: c.interval, webhook: c.webhook, kmsgPath: c.kmsg ? '/dev/kmsg' : false, procfs: '/proc', sysfs: '/sys' };
}
