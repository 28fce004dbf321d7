// The throttle transform: lets at most `threshold` entries through per window, in total or per
// value of a key field, remembering a bounded number of keys (oldest evicted).
import { z } from 'zod';
import { duration } from '../../core/config.ts';
import { inputs } from '../schema.ts';
import type { Definition, LogEntry, Transform } from '../types.ts';
import { readablePath, readPath, toText } from './fields.ts';

const schema = z.strictObject({
  type: z.literal('throttle'),
  inputs,
  /** Entries let through per window (per key with key_field). */
  threshold: z.number().int().positive(),
  window: duration().prefault('1s'),
  /** A separate budget per value of this path; entries without it share one budget. */
  key_field: readablePath.optional(),
  /** Most keys tracked; the one whose window started longest ago is forgotten first. */
  max_keys: z.number().int().positive().default(10_000),
});

interface Budget { start: number; used: number }

/**
 * Fixed windows: the first entry of a key starts its window, which lets `threshold` entries
 * through; later ones are dropped (reason "throttled") until the window ends.
 *
 * @example
 *   [transforms.calm]
 *   type = "throttle"
 *   inputs = ["app"]
 *   threshold = 100
 *   window = "1s"
 *   key_field = "fields.host"
 */
export const throttle = {
  schema,
  create(config, ctx): Transform {
    /** Key -> its budget; Map order is window-start order, so the first key is the oldest. */
    const budgets = new Map<string, Budget>();
    const keyOf = (entry: LogEntry): string => {
      const value = config.key_field === undefined ? undefined : readPath(entry, config.key_field);
      return value === undefined || value === null ? '' : `k:${toText(value)}`;
    };
    return {
      process(entries) {
        const now = Date.now();
        const kept: LogEntry[] = [];
        for (const entry of entries) {
          const key = keyOf(entry);
          let budget = budgets.get(key);
          if (budget === undefined || now - budget.start >= config.window) {
            budgets.delete(key);
            budget = { start: now, used: 0 };
            budgets.set(key, budget);
            if (budgets.size > config.max_keys) budgets.delete(budgets.keys().next().value as string);
          }
          if (budget.used >= config.threshold) continue;
          budget.used++;
          kept.push(entry);
        }
        if (kept.length < entries.length) ctx.counters.dropped('throttled', entries.length - kept.length);
        return kept;
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
