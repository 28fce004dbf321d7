// Event times: "auto" recognises the usual shapes (RFC 3339, nginx/apache, syslog 3164, unix
// seconds/ms); a strftime-style format compiles once to one regex. Times without a zone are local.

/** Epoch milliseconds of a raw time value, or undefined when it does not parse. `now` (epoch ms) places yearless times. */
export type TimeParser = (value: unknown, now: number) => number | undefined;

const dayMs = 86_400_000;
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:[Zz]|([+-])(\d{2}):?(\d{2}))?$/;
const clf = /^(\d{1,2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? ([+-])(\d{2}):?(\d{2})$/;
const bsd = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;
const unix = /^-?\d+(?:\.\d+)?$/;

/** Broken-down time as read from a line; month is 1-12, offset in minutes east of UTC. */
interface Parts {
  year?: number | undefined;
  month?: number | undefined;
  day?: number | undefined;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  offset?: number | undefined;
  /** Set by %p: the hour is on a 12-hour clock. */
  pm?: boolean | undefined;
}

/**
 * The "auto" parser: RFC 3339 / ISO 8601 ("2026-11-22T10:00:00.123+01:00"), nginx/apache
 * ("22/Nov/2026:10:00:00 +0100"), syslog 3164 ("Nov 22 10:00:00", year inferred) and unix
 * seconds or milliseconds (numbers or digit strings; values from 1e11 on are milliseconds).
 * @example
 *   autoTime('22/Nov/2026:10:00:00 +0000', Date.now()) // 1795341600000
 */
export const autoTime: TimeParser = (value, now) => {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string' || value.length > 64) return undefined;
  let m = iso.exec(value);
  if (m) {
    return build({
      year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: num(m[4]), minute: num(m[5]), second: num(m[6]), ms: fraction(m[7]),
      offset: zoneOffset(value, m[8], m[9], m[10]),
    }, now);
  }
  m = clf.exec(value);
  if (m) {
    const month = monthNumber(m[2]);
    return month === undefined ? undefined : build({
      year: Number(m[3]), month, day: Number(m[1]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]), ms: fraction(m[7]),
      offset: offsetMinutes(m[8], m[9], m[10]),
    }, now);
  }
  m = bsd.exec(value);
  if (m) {
    const month = monthNumber(m[1]);
    return month === undefined ? undefined : build({ month, day: Number(m[2]), hour: Number(m[3]), minute: Number(m[4]), second: Number(m[5]), ms: fraction(m[6]) }, now);
  }
  return unix.test(value) ? fromEpoch(Number(value)) : undefined;
};

type Setter = (parts: Parts, text: string) => boolean | void;

const shortMonth = { re: '([A-Za-z]{3})', set: (p: Parts, t: string) => { p.month = monthNumber(t); return p.month !== undefined; } };

/** strftime directives: the regex each matches and how it fills the parts. */
const directives: Record<string, { re: string; set?: Setter }> = {
  Y: { re: '([+-]?\\d{4})', set: (p, t) => { p.year = Number(t); } },
  y: { re: '(\\d{2})', set: (p, t) => { const y = Number(t); p.year = y < 69 ? 2000 + y : 1900 + y; } },
  m: { re: '(\\d{1,2})', set: (p, t) => { p.month = Number(t); } },
  d: { re: '(\\d{1,2})', set: (p, t) => { p.day = Number(t); } },
  e: { re: ' ?(\\d{1,2})', set: (p, t) => { p.day = Number(t); } },
  H: { re: '(\\d{1,2})', set: (p, t) => { p.hour = Number(t); } },
  I: { re: '(\\d{1,2})', set: (p, t) => { p.hour = Number(t); return p.hour >= 1 && p.hour <= 12; } },
  p: { re: '([AaPp][Mm])', set: (p, t) => { p.pm = t[0] === 'P' || t[0] === 'p'; } },
  M: { re: '(\\d{1,2})', set: (p, t) => { p.minute = Number(t); } },
  S: { re: '(\\d{1,2})', set: (p, t) => { p.second = Number(t); } },
  f: { re: '(\\d{1,9})', set: (p, t) => { p.ms = fraction(t); } },
  z: { re: '([Zz]|[+-]\\d{2}:?\\d{2})', set: (p, t) => { p.offset = t === 'Z' || t === 'z' ? 0 : offsetMinutes(t[0], t.slice(1, 3), t.slice(-2)); } },
  Z: { re: '([A-Za-z]{1,5})', set: (p, t) => { if (/^(?:UTC|GMT|Z)$/i.test(t)) p.offset = 0; } },
  b: shortMonth,
  h: shortMonth,
  B: { re: '([A-Za-z]{3,9})', set: (p, t) => { p.month = monthNumber(t); return p.month !== undefined; } },
  a: { re: '[A-Za-z]{3}' },
  A: { re: '[A-Za-z]{6,9}' },
  j: { re: '\\d{1,3}' },
  n: { re: '\\s+' },
  t: { re: '\\s+' },
  '%': { re: '%' },
};
const shorthands: Record<string, string> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M' };

/**
 * Compiles a strftime-style format (%Y %y %m %d %e %H %I %p %M %S %f %z %Z %b %h %B %a %A %j %T %F %D %R
 * %s %%); a space matches any run of whitespace. Returns a reason string for an unknown directive.
 * Without %Y/%y the year is inferred as for syslog; without %z the time is local.
 * @example
 *   const parse = compileTimeFormat('%Y-%m-%d %H:%M:%S,%f');
 *   if (typeof parse !== 'string') parse('2026-11-22 10:00:00,123', Date.now());
 */
export function compileTimeFormat(format: string): TimeParser | string {
  let expanded = format;
  for (const [k, v] of Object.entries(shorthands)) expanded = expanded.replaceAll(`%${k}`, v);
  let source = '^';
  const setters: Setter[] = [];
  let epoch = -1;
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i] ?? '';
    if (c !== '%') {
      source += /\s/.test(c) ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      continue;
    }
    const d = expanded[++i] ?? '';
    if (d === 's') {
      source += '(-?\\d+(?:\\.\\d+)?)';
      epoch = setters.length;
      setters.push(() => undefined);
      continue;
    }
    const directive = directives[d];
    if (directive === undefined) return d === '' ? 'format ends with a lone "%"' : `unknown directive "%${d}"`;
    source += directive.re;
    if (directive.set) setters.push(directive.set);
  }
  const re = new RegExp(`${source}$`);
  return (value, now) => {
    if (typeof value === 'number') return epoch >= 0 ? fromEpoch(value) : undefined;
    if (typeof value !== 'string' || value.length > 256) return undefined;
    const m = re.exec(value);
    if (!m) return undefined;
    if (epoch >= 0) return fromEpoch(Number(m[epoch + 1]));
    const parts: Parts = { hour: 0, minute: 0, second: 0, ms: 0 };
    for (let g = 0; g < setters.length; g++) {
      if ((setters[g] as Setter)(parts, m[g + 1] ?? '') === false) return undefined;
    }
    return build(parts, now);
  };
}

/** Epoch ms as RFC 3339 UTC with milliseconds, or undefined outside the Date range. */
export function isoTime(ms: number): string | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

function build(p: Parts, now: number): number | undefined {
  if (p.pm !== undefined) p.hour = (p.hour % 12) + (p.pm ? 12 : 0);
  let { month, day } = p;
  if (p.year === undefined && month === undefined && day === undefined) {
    const today = new Date(now);
    month = today.getMonth() + 1;
    day = today.getDate();
  }
  month ??= 1;
  day ??= 1;
  if (month < 1 || month > 12 || day < 1 || day > 31 || p.hour > 23 || p.minute > 59 || p.second > 60) return undefined;
  if (p.offset !== undefined && Math.abs(p.offset) > 18 * 60) return undefined;
  const { hour, minute, second, ms, offset } = p;
  const at = (year: number): number | undefined => {
    // Day-of-month overflow (Feb 30) is rejected rather than rolled over.
    if (day > daysIn(year, month)) return undefined;
    if (offset !== undefined) return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000;
    const d = new Date(2000, 0, 1);
    d.setFullYear(year, month - 1, day);
    d.setHours(hour, minute, second, ms);
    return d.getTime();
  };
  if (p.year !== undefined) return at(p.year);
  // Yearless (syslog 3164): this year, or the previous one when that would be over a day in the future.
  const today = new Date(now);
  const year = offset === undefined ? today.getFullYear() : today.getUTCFullYear();
  const guess = at(year);
  return guess !== undefined && guess <= now + dayMs ? guess : at(year - 1);
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysIn(year: number, month: number): number {
  if (month !== 2) return monthDays[month - 1] ?? 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

function fromEpoch(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  return Math.abs(n) >= 1e11 ? Math.trunc(n) : Math.round(n * 1000);
}

function num(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

function fraction(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(`${digits}00`.slice(0, 3));
}

function monthNumber(name: string | undefined): number | undefined {
  if (name === undefined || name.length < 3) return undefined;
  const lower = name.toLowerCase();
  const i = monthNames.indexOf(lower.slice(0, 3));
  return i >= 0 ? i + 1 : undefined;
}

function offsetMinutes(sign: string | undefined, hours: string | undefined, minutes: string | undefined): number {
  const total = Number(hours) * 60 + Number(minutes);
  return sign === '-' ? -total : total;
}

/** ISO: "Z" is UTC, a numeric offset is that offset, nothing at all is local time. */
function zoneOffset(text: string, sign: string | undefined, hours: string | undefined, minutes: string | undefined): number | undefined {
  if (sign !== undefined) return offsetMinutes(sign, hours, minutes);
  const last = text[text.length - 1];
  return last === 'Z' || last === 'z' ? 0 : undefined;
}
