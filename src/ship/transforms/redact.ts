// The redact transform: replaces secrets and personal data (user patterns and presets such as
// emails, bearer tokens, Luhn-valid card numbers) in the message and string fields.
import { z } from 'zod';
import { inputs } from '../schema.ts';
import type { Definition, LogEntry, Transform } from '../types.ts';
import { readPath, writePath } from './fields.ts';

/** How one rule rewrites a match: the whole match, or only the secret part of it. */
interface Rule {
  re: RegExp;
  /** Returns the replacement, or undefined to keep the match (a card number failing Luhn). */
  replace(replacement: string, match: string, groups: Array<string | undefined>): string | undefined;
}

const whole: Rule['replace'] = (replacement) => replacement;

/** Luhn checksum over the digits of a string. */
export function luhnValid(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

export const presets = {
  /** "Bearer <token>" (Authorization headers): the token. */
  bearer: { re: /\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, replace: (r, _m, g) => `${g[0] ?? ''}${r}` },
  email: { re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, replace: whole },
  /** 13 to 19 digits, optionally grouped with spaces or dashes, that pass the Luhn check. */
  credit_card: { re: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g, replace: (r, m) => (luhnValid(m) ? r : undefined) },
  ipv4: { re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g, replace: whole },
  /** AWS access key ids (AKIA..., ASIA...). */
  aws_key: { re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, replace: whole },
  /** The value of password=..., password: ..., "password":"..." (also passwd, pwd); quotes are kept. */
  password: {
    re: /((?:["']?)\b(?:password|passwd|pwd)\b["']?\s*[:=]\s*)(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s,;&"'}]+))/gi,
    replace: (r, m, g) => {
      const prefix = g[0] ?? '';
      const quote = m.slice(prefix.length, prefix.length + 1);
      return quote === '"' || quote === "'" ? `${prefix}${quote}${r}${quote}` : `${prefix}${r}`;
    },
  },
} satisfies Record<string, Rule>;
export type Preset = keyof typeof presets;

const pattern = z.string().min(1).superRefine((source, ctx) => {
  try {
    new RegExp(source, 'g');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

const schema = z.strictObject({
  type: z.literal('redact'),
  inputs,
  /** Regular expressions (JavaScript syntax) whose matches are replaced whole. */
  patterns: z.array(pattern).default([]),
  presets: z.array(z.enum(Object.keys(presets) as [Preset, ...Preset[]])).default([]),
  replacement: z.string().default('[REDACTED]'),
  /** Paths to redact (an object is redacted recursively); default: message and every string under fields. */
  fields: z.array(z.string().regex(/^(?:message|source|fields(?:\.[^.\s]+)*)$/, 'expected message, source, fields or fields.<name>[.<name>...]'))
    .min(1).default(['message', 'fields']),
}).refine((c) => c.patterns.length > 0 || c.presets.length > 0, { message: 'needs at least one of patterns or presets', path: ['patterns'] });

/** Redacts one string; returns it and how many matches were replaced. */
function redactText(text: string, rules: readonly Rule[], replacement: string): [string, number] {
  let count = 0;
  let out = text;
  for (const rule of rules) {
    rule.re.lastIndex = 0;
    out = out.replace(rule.re, (match: string, ...rest: unknown[]) => {
      const groups = rest.filter((g): g is string | undefined => typeof g === 'string' || g === undefined).slice(0, -1);
      const replaced = rule.replace(replacement, match, groups);
      if (replaced === undefined) return match;
      count++;
      return replaced;
    });
  }
  return [out, count];
}

/**
 * Replaces matches of `patterns` and `presets` with `replacement` in the chosen paths.
 *
 * @example
 *   [transforms.scrub]
 *   type = "redact"
 *   inputs = ["app"]
 *   presets = ["bearer", "email", "credit_card", "password"]
 *   patterns = ['session=[0-9a-f]{32}']
 */
export const redact = {
  schema,
  create(config, ctx): Transform {
    const rules: Rule[] = [
      ...config.presets.map((name) => presets[name]),
      ...config.patterns.map((source) => ({ re: new RegExp(source, 'g'), replace: whole })),
    ];
    let count = 0;
    /** A value with every string inside redacted; new objects only where something changed. */
    const scrub = (value: unknown, depth: number): unknown => {
      if (typeof value === 'string') {
        const [text, n] = redactText(value, rules, config.replacement);
        count += n;
        return n === 0 ? value : text;
      }
      if (typeof value !== 'object' || value === null || depth > 32) return value;
      let changed = false;
      const copy: unknown = Array.isArray(value) ? value.map((v) => {
        const s = scrub(v, depth + 1);
        changed ||= s !== v;
        return s;
      }) : Object.fromEntries(Object.entries(value).map(([k, v]) => {
        const s = scrub(v, depth + 1);
        changed ||= s !== v;
        return [k, s];
      }));
      return changed ? copy : value;
    };
    const one = (input: LogEntry): LogEntry => {
      let out = input;
      for (const path of config.fields) {
        const value = readPath(out, path);
        if (value === undefined) continue;
        const scrubbed = scrub(value, 0);
        if (scrubbed === value) continue;
        if (out === input) out = { ...input };
        if (path === 'fields') out.fields = scrubbed as Record<string, unknown>;
        else writePath(out, path, scrubbed);
      }
      return out;
    };
    return {
      process(entries) {
        count = 0;
        const out = entries.map(one);
        if (count > 0) ctx.log.debug({ redactions: count, entries: entries.length }, 'redacted');
        return out;
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
