// The fields transform: copies, renames, adds (with {{ path }} templates) and removes entry
// fields; also home of the dotted-path helpers the other transforms use to read entries.
import { z } from 'zod';
import { inputs } from '../schema.ts';
import { levels, type Definition, type Level, type LogEntry, type Transform } from '../types.ts';

/** Paths any transform may read: the top-level keys and anything under `fields`. */
export const readablePaths = ['id', 'timestamp', 'source', 'level', 'message', 'fields.*'] as const;

const segment = String.raw`[^.\s{}]+`;
const readableRe = new RegExp(`^(?:id|timestamp|source|level|message|fields(?:\\.${segment})+)$`);
const writableRe = new RegExp(`^(?:source|level|message|fields(?:\\.${segment})+)$`);
const removableRe = new RegExp(`^fields(?:\\.${segment})+$`);
const quoteHint = ' (quote dotted keys in TOML tables: "fields.env" = "prod")';

/** A path an entry can be read at: "message", "level", "fields.http.status"... */
export const readablePath = z.string().regex(readableRe, 'expected id, timestamp, source, level, message or fields.<name>[.<name>...]');
const writablePath = z.string().regex(writableRe, `expected source, level, message or fields.<name>[.<name>...]${quoteHint}`);
const removablePath = z.string().regex(removableRe, 'expected fields.<name>[.<name>...] (top-level keys cannot be removed)');

/** The value at a dotted path of an entry, or undefined. Own properties only. */
export function readPath(entry: LogEntry, path: string): unknown {
  let value: unknown = entry;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A value as text: strings as they are, anything else as JSON. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function asLevel(value: unknown): Level {
  const text = toText(value).toLowerCase();
  return (levels as readonly string[]).includes(text) ? (text as Level) : 'unknown';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets a writable path on an entry that the caller owns (a shallow copy), copying every object
 * on the way under `fields` so that nothing shared with another entry is changed.
 */
export function writePath(entry: LogEntry, path: string, value: unknown): void {
  if (path === 'message' || path === 'source') {
    entry[path] = toText(value);
    return;
  }
  if (path === 'level') {
    entry.level = asLevel(value);
    return;
  }
  const parts = path.split('.').slice(1);
  entry.fields = { ...entry.fields };
  let node = entry.fields;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    const copy: Record<string, unknown> = isRecord(next) ? { ...next } : {};
    node[part] = copy;
    node = copy;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** Deletes a `fields.*` path from an entry the caller owns, copying objects on the way; false when absent. */
export function deletePath(entry: LogEntry, path: string): boolean {
  if (!hasPath(entry, path)) return false;
  const parts = path.split('.').slice(1);
  entry.fields = { ...entry.fields };
  let node = entry.fields;
  for (const part of parts.slice(0, -1)) {
    const copy = { ...(node[part] as Record<string, unknown>) };
    node[part] = copy;
    node = copy;
  }
  return delete node[parts[parts.length - 1] as string];
}

function hasPath(entry: LogEntry, path: string): boolean {
  const parts = path.split('.');
  const last = parts.pop() as string;
  const parent = parts.length === 0 ? entry : readPath(entry, parts.join('.'));
  return isRecord(parent) && Object.hasOwn(parent, last);
}

const templateRe = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** Replaces each `{{ path }}` of a template with the entry's value there (missing: empty). */
export function renderTemplate(template: string, entry: LogEntry): string {
  return template.replace(templateRe, (_, path: string) => {
    const value = readPath(entry, path);
    return value === undefined ? '' : toText(value);
  });
}

const addValue = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'string') return;
  for (const m of value.matchAll(templateRe)) {
    if (!readableRe.test(m[1] as string)) ctx.addIssue({ code: 'custom', message: `template {{ ${m[1]} }}: expected id, timestamp, source, level, message or fields.<name>` });
  }
});

const schema = z.strictObject({
  type: z.literal('fields'),
  inputs,
  /** Copies values: from (any readable path) -> to (a writable path). Runs first. */
  copy: z.record(readablePath, writablePath).default({}),
  /** Moves values: old (fields.*) -> new (a writable path). Runs second. */
  rename: z.record(removablePath, writablePath).default({}),
  /** Sets values: path -> value; string values may hold {{ path }} templates. Runs third. */
  add: z.record(writablePath, addValue).default({}),
  /** Deletes fields.* paths. Runs last. */
  remove: z.array(removablePath).default([]),
});

/**
 * Reshapes entries: copy, then rename, then add, then remove. Top-level `message`, `level` and
 * `source` may be written (level is normalised, anything unknown becomes "unknown"); only paths
 * under `fields` may be renamed or removed. Entries are copied, never changed in place.
 *
 * @example
 *   [transforms.shape]
 *   type = "fields"
 *   inputs = ["app"]
 *   rename = { "fields.msg" = "message" }
 *   add = { "fields.env" = "prod", "fields.origin" = "{{ fields.host }}:{{ source }}" }
 *   remove = ["fields.password"]
 */
export const fields = {
  schema,
  create(config): Transform {
    const copies = Object.entries(config.copy);
    const renames = Object.entries(config.rename);
    const adds = Object.entries(config.add);
    return {
      process(entries) {
        return entries.map((input) => {
          const out = { ...input };
          for (const [from, to] of copies) {
            const value = readPath(out, from);
            if (value !== undefined) writePath(out, to, value);
          }
          for (const [from, to] of renames) {
            const value = readPath(out, from);
            if (value === undefined) continue;
            deletePath(out, from);
            writePath(out, to, value);
          }
          for (const [path, value] of adds) {
            // Objects from the config are cloned so that no two entries share them.
            writePath(out, path, typeof value === 'string' ? renderTemplate(value, out) : typeof value === 'object' && value !== null ? structuredClone(value) : value);
          }
          for (const path of config.remove) deletePath(out, path);
          return out;
        });
      },
    };
  },
} satisfies Definition<typeof schema, Transform>;
