// The json format: one JSON object per line; `message`/`msg` becomes the message, the rest are fields.
import { recordLifter } from './record.ts';
import type { LineParser, ParserDefinition } from './types.ts';

/** One JSON object per line; anything else fails ("invalid JSON", "not a JSON object"). */
export const json: ParserDefinition = {
  create(options): LineParser {
    const lift = recordLifter(options);
    return (line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return 'invalid JSON';
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
      return lift(value as Record<string, unknown>);
    };
  },
};
