// The regex format: a user pattern whose named groups become the fields (unmatched groups are left
// out); groups named like the json conventions give the message, level and time.
import { recordLifter, setField } from './record.ts';
import type { LineParser, ParserDefinition } from './types.ts';

/**
 * Compiles a user pattern; a reason string when it is not a valid regex or has no named group.
 * @example
 *   compilePattern('^(?<ip>\\S+) (?<msg>.*)$') // RegExp
 */
export function compilePattern(source: string): RegExp | string {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  // Alternated with the empty pattern it always matches, so `groups` shows whether any group is named.
  const groups = new RegExp(`(?:${source})|`).exec('')?.groups;
  return groups === undefined ? 'the pattern needs at least one named group, like (?<status>\\d+)' : re;
}

/** Lines matched by `options.pattern`; a line that does not match fails with "no match". */
export const regex: ParserDefinition = {
  create(options): LineParser {
    const pattern = options.pattern;
    if (pattern === undefined) return () => 'no pattern';
    const lift = recordLifter(options);
    return (line) => {
      const groups = pattern.exec(line)?.groups;
      if (groups === undefined) return 'no match';
      const fields: Record<string, unknown> = {};
      for (const key in groups) {
        const value = groups[key];
        if (value !== undefined) setField(fields, key, value);
      }
      return lift(fields);
    };
  },
};
