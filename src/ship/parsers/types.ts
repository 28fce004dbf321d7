// The contract every line parser follows: a pure function from one line to its fields, or a short
// reason it could not parse the line. Built once per transform from its options.
import type { Level } from '../types.ts';

/** What a parser found in one line. */
export interface Parsed {
  fields: Record<string, unknown>;
  /** The raw event time the format carries (the format's default timestamp field), still unparsed. */
  timestamp?: unknown;
  level?: Level;
  /** Replaces the entry's message (json/logfmt `message`/`msg`, the syslog MSG part). */
  message?: string;
}

/** A parsed line, or a short reason ("invalid JSON", "no match") when it does not parse. Never throws. */
export type LineParser = (line: string) => Parsed | string;

export interface ParserOptions {
  /** regex: the compiled pattern (with named groups). */
  pattern?: RegExp | undefined;
  /** json/logfmt/regex: the field that becomes the message (default: first of message, msg). */
  messageField?: string | undefined;
  /** json/logfmt/regex: the field the level is read from (default: first of level, severity, lvl). */
  levelField?: string | undefined;
}

/** A format: builds its line parser once from the options. */
export interface ParserDefinition {
  create(options: ParserOptions): LineParser;
}
