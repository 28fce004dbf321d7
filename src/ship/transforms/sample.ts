// The sample transform: keeps 1 entry in N, by a stable hash of a key (whole traces together) or
// by a counter; kept entries carry fields.sample_rate = N.
import { z } from 'zod';
import { inputs } from '../schema.ts';
import type { Definition, LogEntry, Transform } from '../types.ts';
import { readablePath, readPath, toText } from './fields.ts';

const schema = z.strictObject({
  type: z.literal('sample'),
  inputs,
  /** Keep 1 entry in this many (1 keeps everything). */
  rate: z.number().int().min(1),
  /** Entries with the same value here are kept or dropped together; entries without it use the counter. */
  key_field: readablePath.optional(),
});

/** FNV-1a, 32 bits, over the UTF-16 code units of a string: stable across runs and hosts. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Keeps 1 entry in `rate`; drops count as "sample".
 *
 * @example
 *   [transforms.one_in_ten]
 *   type = "sample"
 *   inputs = ["app"]
 *   rate = 10
 *   key_field = "fields.trace_id"
 */
export const sample = {
  schema,
  create(config, ctx): Transform {
    const rate = config.rate;
    let counter = 0;
    const keep = (entry: LogEntry): boolean => {
      const key = config.key_field === undefined ? undefined : readPath(entry, config.key_field);
      if (key !== undefined && key !== null) return fnv1a32(toText(key)) % rate === 0;
      counter = (counter + 1) % rate;
      return counter === 1 % rate;
    };
    return {
      process(entries) {
        const kept: LogEntry[] = [];
        for (const entry of entries) {
          if (keep(entry)) kept.push({ ...entry, fields: { ...entry.fields, sample_rate: rate } });
        }
        if (kept.length < entries.length) ctx.counters.dropped('sample', entries.length - kept.length);
        return kept;
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
