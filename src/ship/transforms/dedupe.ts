// The dedupe transform: drops an entry whose identity (some of its fields) was seen within a time
// window, remembering a bounded number of identities (least recently seen evicted first).
import { z } from 'zod';
import { duration } from '../../core/config.ts';
import { inputs } from '../schema.ts';
import type { Definition, LogEntry, Transform } from '../types.ts';
import { readablePath, readPath } from './fields.ts';

const schema = z.strictObject({
  type: z.literal('dedupe'),
  inputs,
  /** Paths whose values together identify an entry. */
  fields: z.array(readablePath).min(1).default(['message']),
  /** A repeat this long after the first kept occurrence is kept again (and starts a new window). */
  window: duration().prefault('10m'),
  /** Most identities remembered; the least recently seen is forgotten first. */
  cache_size: z.number().int().positive().default(10_000),
});

/**
 * Drops repeats within `window` (reason "duplicate"). A missing field is part of the identity
 * as "missing", so entries that all lack it are duplicates of each other.
 *
 * @example
 *   [transforms.once]
 *   type = "dedupe"
 *   inputs = ["app"]
 *   fields = ["source", "message"]
 *   window = "1m"
 */
export const dedupe = {
  schema,
  create(config, ctx): Transform {
    /** Identity -> when its window started (ms); Map order is recency order. */
    const seen = new Map<string, number>();
    const identity = (entry: LogEntry): string => JSON.stringify(config.fields.map((path) => readPath(entry, path) ?? null));
    return {
      process(entries) {
        const now = Date.now();
        const kept: LogEntry[] = [];
        for (const entry of entries) {
          let key: string;
          try {
            key = identity(entry);
          } catch {
            kept.push(entry); // values JSON cannot show (cycles, BigInt) never match
            continue;
          }
          const since = seen.get(key);
          seen.delete(key);
          if (since !== undefined && now - since < config.window) {
            seen.set(key, since);
            continue;
          }
          seen.set(key, now);
          if (seen.size > config.cache_size) seen.delete(seen.keys().next().value as string);
          kept.push(entry);
        }
        if (kept.length < entries.length) ctx.counters.dropped('duplicate', entries.length - kept.length);
        return kept;
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
