// The parse transform: turns each entry's line into fields with one of the line formats of
// ../parsers, taking the event time, level and message from it; failures follow on_error.
import { z } from 'zod';
import { parsers, type Format } from '../parsers/index.ts';
import { compilePattern } from '../parsers/regex.ts';
import { autoTime, compileTimeFormat, isoTime, type TimeParser } from '../parsers/timestamp.ts';
import type { LineParser, Parsed } from '../parsers/types.ts';
import { inputs, onError } from '../schema.ts';
import type { ComponentContext, Definition, LogEntry, Transform } from '../types.ts';

const warnEveryMs = 10_000;
const exampleChars = 200;

const pattern = z.string().transform((source, ctx): RegExp => {
  const re = compilePattern(source);
  if (typeof re === 'string') {
    ctx.addIssue({ code: 'custom', message: re });
    return z.NEVER;
  }
  return re;
});

const schema = z.strictObject({
  type: z.literal('parse'),
  inputs,
  /** pass: keep the entry with fields.parse_error; drop: count and drop it; dead_letter: write it to the dead-letter file. */
  on_error: onError,
  format: z.enum(Object.keys(parsers) as [Format, ...Format[]]),
  /** format "regex": the pattern; its named groups become the fields. */
  pattern: pattern.optional(),
  /** What to parse: the line ("message") or a string field ("fields.raw"). */
  field: z.string().regex(/^(?:message|fields\.[^.]+)$/, 'expected "message" or "fields.<name>"').default('message'),
  /** Nest the parsed fields under this field instead of merging them into the entry's fields. */
  target: z.string().min(1).optional(),
  /** json/logfmt/regex: the field that becomes the message (default: first of message, msg). */
  message_field: z.string().min(1).optional(),
  /** json/logfmt/regex: the field the level comes from (default: first of level, severity, lvl). */
  level_field: z.string().min(1).optional(),
  /** The parsed field holding the event time (default: the format's own: time_local, timestamp, or first of time/timestamp/ts/@timestamp). */
  timestamp_field: z.string().min(1).optional(),
  /** "auto" (RFC 3339, nginx, syslog, unix seconds/ms) or a strftime format such as "%Y-%m-%d %H:%M:%S,%f". */
  timestamp_format: z.string().min(1).default('auto').superRefine((format, ctx) => {
    const parser = format === 'auto' ? autoTime : compileTimeFormat(format);
    if (typeof parser === 'string') ctx.addIssue({ code: 'custom', message: `invalid timestamp_format: ${parser}` });
  }),
}).superRefine((config, ctx) => {
  if (config.format === 'regex' && config.pattern === undefined) {
    ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'format "regex" needs a pattern with named groups, like "^(?<ip>\\\\S+) (?<msg>.*)$"' });
  } else if (config.format !== 'regex' && config.pattern !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['pattern'], message: `pattern is only used with format "regex", not "${config.format}"` });
  }
});
type Settings = z.output<typeof schema>;

/** One warning per interval at most, carrying how many failures there were since the last one and an example. */
class FailureLog {
  private pending = 0;
  private reason = '';
  private example = '';
  private last = -Infinity;
  private readonly ctx: ComponentContext;

  constructor(ctx: ComponentContext) {
    this.ctx = ctx;
  }

  note(failures: number, reason: string, example: string): void {
    this.pending += failures;
    this.reason = reason;
    this.example = example;
    const now = Date.now();
    if (now - this.last >= warnEveryMs) {
      this.last = now;
      this.flush();
    }
  }

  flush(): void {
    if (this.pending === 0) return;
    this.ctx.log.warn({ failures: this.pending, reason: this.reason, example: this.example.slice(0, exampleChars) }, 'parse failed');
    this.pending = 0;
  }
}

interface Failure {
  entry: LogEntry;
  reason: string;
}

function create(config: Settings, ctx: ComponentContext): Transform {
  const parser: LineParser = parsers[config.format].create({ pattern: config.pattern, messageField: config.message_field, levelField: config.level_field });
  const compiled = config.timestamp_format === 'auto' ? autoTime : compileTimeFormat(config.timestamp_format);
  const parseTime: TimeParser = typeof compiled === 'string' ? autoTime : compiled;
  const sourceField = config.field === 'message' ? undefined : config.field.slice('fields.'.length);
  const { target, timestamp_field: timestampField } = config;
  const failures = new FailureLog(ctx);
  // The last raw time and its parse; times that did not parse in the current batch.
  let lastRaw: unknown;
  let lastIso: string | undefined;
  let badTimes = 0;

  /** The entry with what was parsed; a time that is there but does not parse counts in badTimes. */
  function apply(entry: LogEntry, parsed: Parsed, now: number): LogEntry {
    let fields: Record<string, unknown>;
    if (target !== undefined) fields = { ...entry.fields, [target]: parsed.fields };
    else fields = isEmpty(entry.fields) ? parsed.fields : { ...entry.fields, ...parsed.fields };
    const next: LogEntry = { ...entry, fields };
    if (parsed.message !== undefined) next.message = parsed.message;
    if (parsed.level !== undefined) next.level = parsed.level;
    const raw = timestampField === undefined ? parsed.timestamp : parsed.fields[timestampField];
    if (raw === undefined) return next;
    // Consecutive lines mostly share their time (access logs: per second), so the last one is kept.
    if (raw !== lastRaw) {
      const ms = parseTime(raw, now);
      lastIso = ms === undefined ? undefined : isoTime(ms);
      lastRaw = raw;
    }
    if (lastIso === undefined) badTimes++;
    else next.timestamp = lastIso;
    return next;
  }

  function parseOne(entry: LogEntry): Parsed | string {
    const input = sourceField === undefined ? entry.message : entry.fields[sourceField];
    if (typeof input !== 'string') return `${config.field} is not a string`;
    try {
      return parser(input);
    } catch {
      // Parsers do not throw; this keeps a bug in one from stopping the pipeline.
      return 'parser error';
    }
  }

  /** Counts and warns about a batch's failures; drops or dead-letters them (pass already kept them). */
  function fail(count: number, example: Failure, failed: readonly Failure[]): void {
    ctx.counters.error('parse', count);
    failures.note(count, example.reason, example.entry.message);
    if (config.on_error === 'drop') {
      ctx.counters.dropped('parse_error', count);
    } else if (config.on_error === 'dead_letter') {
      ctx.counters.dropped('dead_letter', count); // out of the pipeline, as the plugin transform counts it
      const byReason = new Map<string, LogEntry[]>();
      for (const { entry, reason } of failed) {
        const list = byReason.get(reason);
        if (list === undefined) byReason.set(reason, [entry]);
        else list.push(entry);
      }
      for (const [reason, list] of byReason) ctx.deadLetter.write(list, reason, ctx.name);
    }
  }

  const pass = config.on_error === 'pass';
  return {
    process(entries) {
      const now = Date.now();
      const out: LogEntry[] = [];
      const failed: Failure[] = [];
      let failedCount = 0;
      let example: Failure | undefined;
      badTimes = 0;
      for (const entry of entries) {
        const result = parseOne(entry);
        if (typeof result === 'string') {
          failedCount++;
          example ??= { entry, reason: result };
          if (pass) out.push({ ...entry, fields: { ...entry.fields, parse_error: result } });
          else failed.push({ entry, reason: result });
          continue;
        }
        out.push(apply(entry, result, now));
      }
      if (example !== undefined) fail(failedCount, example, failed);
      if (badTimes > 0) ctx.counters.error('timestamp', badTimes);
      return out;
    },
    close() {
      failures.flush();
      return Promise.resolve();
    },
  };
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}

/**
 * `[transforms.x] type = "parse"`: parses each line (json, logfmt, regex, nginx, apache, syslog).
 * @example
 *   [transforms.access]
 *   type = "parse"
 *   inputs = ["nginx_files"]
 *   format = "nginx"
 *   on_error = "dead_letter"
 */
export const parse = { schema, create } satisfies Definition<typeof schema, Transform>;
