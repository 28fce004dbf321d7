// The syslog format, RFC 5424 and RFC 3164 told apart per line; PRI is optional for 3164 (as in
// /var/log/syslog, where the timestamp may also be RFC 3339). MSG becomes the entry's message.
import { severityLevel } from './level.ts';
import { setField } from './record.ts';
import type { LineParser, Parsed, ParserDefinition } from './types.ts';

const facilities = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
const severities = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const header5424 = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const line3164 = /^(?:<(\d{1,3})>)?([A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+) ?([\s\S]*)$/;
const tag = /^([^\s[\]:]{1,128})(?:\[([^\]\s]*)\])?:(?: |$)/;

/** Structured data: `[id name="value" ...]...` into { id: { name: value } }; undefined when malformed. */
export function parseStructuredData(text: string, start: number): { data: Record<string, Record<string, string>>; end: number } | undefined {
  const data: Record<string, Record<string, string>> = {};
  let i = start;
  const n = text.length;
  while (i < n && text[i] === '[') {
    let j = i + 1;
    while (j < n && text[j] !== ' ' && text[j] !== ']') j++;
    const id = text.slice(i + 1, j);
    if (id === '' || j >= n) return undefined;
    const params: Record<string, string> = {};
    i = j;
    while (text[i] === ' ') {
      const eq = text.indexOf('="', i + 1);
      if (eq < 0) return undefined;
      const name = text.slice(i + 1, eq);
      if (name === '' || /[\s\]"]/.test(name)) return undefined;
      let value = '';
      let run = eq + 2;
      let k = run;
      for (; k < n; k++) {
        const c = text[k];
        if (c === '"') break;
        if (c === '\\' && (text[k + 1] === '"' || text[k + 1] === '\\' || text[k + 1] === ']')) {
          value += text.slice(run, k);
          run = k + 1;
          k++;
        }
      }
      if (k >= n) return undefined;
      setField(params, name, value + text.slice(run, k));
      i = k + 1;
    }
    if (text[i] !== ']') return undefined;
    setField(data, id, params);
    i++;
  }
  return i === start ? undefined : { data, end: i };
}

function priority(fields: Record<string, unknown>, pri: number): number {
  const severity = pri & 7;
  fields.facility = facilities[pri >> 3];
  fields.severity = severities[severity];
  return severity;
}

function parse5424(line: string, m: RegExpExecArray): Parsed | string {
  const fields: Record<string, unknown> = {};
  const pri = Number(m[1]);
  if (pri > 191) return 'invalid syslog priority';
  const severity = priority(fields, pri);
  fields.version = Number(m[2]);
  const names = ['timestamp', 'hostname', 'app_name', 'procid', 'msgid'] as const;
  for (let g = 0; g < names.length; g++) {
    const value = m[g + 3] as string;
    if (value !== '-') fields[names[g] as string] = value;
  }
  let i = m[0].length;
  if (line[i] === '-') {
    i++;
  } else {
    const sd = parseStructuredData(line, i);
    if (sd === undefined) return 'invalid syslog structured data';
    fields.structured_data = sd.data;
    i = sd.end;
  }
  if (i < line.length && line[i] !== ' ') return 'invalid syslog structured data';
  let message = line.slice(i + 1);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  return { fields, timestamp: fields.timestamp, level: severityLevel(severity), message };
}

function parse3164(m: RegExpExecArray): Parsed | string {
  const fields: Record<string, unknown> = {};
  let level: Parsed['level'];
  if (m[1] !== undefined) {
    const pri = Number(m[1]);
    if (pri > 191) return 'invalid syslog priority';
    level = severityLevel(priority(fields, pri));
  }
  const timestamp = m[2] as string;
  fields.timestamp = timestamp;
  let rest = m[3] as string;
  // The first word is the host unless it already looks like the tag ("sshd[42]:"), as when a host is left out.
  if (!tag.test(rest)) {
    const space = rest.indexOf(' ');
    const host = space < 0 ? rest : rest.slice(0, space);
    if (host !== '' && host !== '-') fields.hostname = host;
    rest = space < 0 ? '' : rest.slice(space + 1);
  }
  const t = tag.exec(rest);
  if (t !== null) {
    fields.app_name = t[1];
    if (t[2] !== undefined && t[2] !== '') fields.procid = t[2];
    rest = rest.slice(t[0].length);
  }
  const parsed: Parsed = { fields, timestamp, message: rest };
  if (level !== undefined) parsed.level = level;
  return parsed;
}

/** RFC 5424 or RFC 3164 lines, detected per line; level from the severity when there is a PRI. */
export const syslog: ParserDefinition = {
  create: (): LineParser => (line) => {
    const m5424 = header5424.exec(line);
    if (m5424 !== null) return parse5424(line, m5424);
    const m3164 = line3164.exec(line);
    return m3164 === null ? 'not a syslog line' : parse3164(m3164);
  },
};
