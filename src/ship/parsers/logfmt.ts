// The logfmt format: `key=value key2="quoted \"value\"" flag`; values stay strings, a bare key is
// `true`, and `msg`/`message` becomes the message as for json.
import { recordLifter, setField } from './record.ts';
import type { LineParser, ParserDefinition } from './types.ts';

const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f' };

/**
 * Splits one logfmt line into its pairs; a reason string when it is not logfmt (no pairs, an
 * unterminated quote, a quote or "=" where a key should start).
 * @example
 *   parseLogfmt('level=info msg="user logged in" admin') // { level: 'info', msg: 'user logged in', admin: true }
 */
export function parseLogfmt(line: string): Record<string, unknown> | string {
  const fields: Record<string, unknown> = {};
  const n = line.length;
  let i = 0;
  let pairs = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) { i++; continue; }
    if (c === 61 || c === 34) return 'expected a key';
    const keyStart = i;
    while (i < n && (c = line.charCodeAt(i)) !== 61 && c !== 32 && c !== 9 && c !== 34) i++;
    const key = line.slice(keyStart, i);
    if (c === 34 && i < n) return 'quote inside a key';
    pairs++;
    if (i >= n || c !== 61) { setField(fields, key, true); continue; }
    i++;
    if (i < n && line.charCodeAt(i) === 34) {
      const value = quoted(line, i + 1);
      if (value === undefined) return 'unterminated quote';
      setField(fields, key, value.text);
      i = value.end;
      continue;
    }
    const valueStart = i;
    while (i < n && (c = line.charCodeAt(i)) !== 32 && c !== 9) i++;
    setField(fields, key, line.slice(valueStart, i));
  }
  return pairs === 0 ? 'no key=value pairs' : fields;
}

/** A double-quoted value starting after its opening quote: its text and the index after the closing quote. */
function quoted(line: string, start: number): { text: string; end: number } | undefined {
  let text = '';
  let run = start;
  for (let i = start; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) return { text: text + line.slice(run, i), end: i + 1 };
    if (c !== 92) continue;
    text += line.slice(run, i);
    const next = line[i + 1];
    if (next === undefined) return undefined;
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) {
      text += String.fromCharCode(parseInt(line.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      text += escapes[next] ?? `\\${next}`;
      i++;
    }
    run = i + 1;
  }
  return undefined;
}

/** logfmt lines, lifted like json (message, level, time). */
export const logfmt: ParserDefinition = {
  create(options): LineParser {
    const lift = recordLifter(options);
    return (line) => {
      const fields = parseLogfmt(line);
      return typeof fields === 'string' ? fields : lift(fields);
    };
  },
};
