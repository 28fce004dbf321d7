// The common tail of the key-value formats (json, logfmt, regex): lift the message out of the
// fields, read the level and find the event time, by configured or conventional field names.
import { normalizeLevel } from './level.ts';
import type { Parsed, ParserOptions } from './types.ts';

const messageFields = ['message', 'msg'];
const levelFields = ['level', 'severity', 'lvl'];
const timeFields = ['time', 'timestamp', 'ts', '@timestamp'];

/** Sets a field, as an own property even when the key is "__proto__" (data must not reach the prototype). */
export function setField(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** Builds the function turning a record's fields into a Parsed, for the given options. */
export function recordLifter(options: ParserOptions): (fields: Record<string, unknown>) => Parsed {
  const messageKeys = options.messageField === undefined ? messageFields : [options.messageField];
  const levelKeys = options.levelField === undefined ? levelFields : [options.levelField];
  return (fields) => {
    const parsed: Parsed = { fields };
    for (const key of messageKeys) {
      const value = fields[key];
      if (typeof value === 'string') {
        parsed.message = value;
        delete fields[key];
        break;
      }
    }
    for (const key of levelKeys) {
      const value = fields[key];
      if (value !== undefined) {
        parsed.level = normalizeLevel(value);
        break;
      }
    }
    for (const key of timeFields) {
      const value = fields[key];
      if (value !== undefined) {
        parsed.timestamp = value;
        break;
      }
    }
    return parsed;
  };
}
