// Layered config: TOML file < OPSCTL_* environment < command-line flags, validated by a zod
// schema; every error names where the bad value came from (file:line, env var or flag) and the key.
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { OpsError, errnoCode } from './errors.ts';
import { parseDurationMs, parseSize } from './units.ts';

type Path = ReadonlyArray<PropertyKey>;
type Tree = Record<string, unknown>;

export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S;
  /** TOML file to read; absent means defaults + env + flags only. */
  file?: string | undefined;
  /** Environment to read OPSCTL_* variables from (default: none). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Prefix of environment variables; "__" separates nesting levels (OPSCTL_OOM__INTERVAL -> oom.interval). */
  envPrefix?: string;
  /** Values from command-line flags by dotted key ("log.level"), highest precedence; undefined values are ignored. */
  flags?: Record<string, unknown>;
  /** Names of the flags by dotted key, for error messages ("log.level" -> "--log-level"). */
  flagNames?: Record<string, string>;
}

/** Where each value came from, for error messages. */
interface Origins {
  file?: string | undefined;
  lines: Map<string, number>;
  env: Map<string, string>;
  flags: Map<string, string>;
}

/** A duration in config ("5s", "1m30s"), as milliseconds. */
export function duration(): z.ZodType<number, string> {
  return z.string().transform((text, ctx) => {
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "5s" or "1m30s", got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });
}

/** A size in config ("100MiB", "4096"), as bytes. */
export function size(): z.ZodType<number, string | number> {
  return z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
    const bytes = typeof v === 'number' ? v : parseSize(v);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size like "100MiB" or a number of bytes, got "${String(v)}"` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** A listen address "host:port" (port 0 picks a free one). */
export function listenAddress(): z.ZodType<{ host: string; port: number }, string> {
  return z.string().transform((text, ctx) => {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected "host:port" (e.g. "127.0.0.1:9110" or ":9110"), got "${text}"` });
      return z.NEVER;
    }
    const host = m[1] ?? m[2] ?? '';
    return { host: host === '' ? '0.0.0.0' : host, port };
  });
}

/**
 * Reads, layers and validates a config.
 * @example
 *   const cfg = loadConfig({ schema: upSchema, file: 'opsctl.toml', env: process.env, flags: { 'log.level': 'debug' } });
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.output<S> {
  const origins: Origins = { file: options.file, lines: new Map(), env: new Map(), flags: new Map() };
  const tree: Tree = options.file === undefined ? {} : readTomlFile(options.file, origins);
  if (options.env) mergeEnv(tree, options.env, options.envPrefix ?? 'OPSCTL_', origins);
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    setPath(tree, key.split('.'), value);
    origins.flags.set(key, options.flagNames?.[key] ?? `--${key.replaceAll('.', '-')}`);
  }
  return validate(options.schema, tree, origins);
}

/** Validates an in-memory value against a schema, with the same error format as loadConfig. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, origins?: Partial<Origins>): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const full: Origins = { lines: new Map(), env: new Map(), flags: new Map(), ...origins };
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, full));
  const first = problems[0];
  throw new OpsError('OPS_ERR_CONFIG_INVALID', problems.map((p) => p.text).join('\n'), {
    details: { file: full.file, line: first?.line, key: first?.key, problems },
  });
}

function readTomlFile(file: string, origins: Origins): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpsError('OPS_ERR_CONFIG_READ', `${file}: cannot read config (${errnoCode(err) ?? String(err)})`, {
      details: { file }, cause: err,
    });
  }
  try {
    const tree = parseToml(text) as Tree;
    origins.lines = locateKeys(text);
    return tree;
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split('\n')[0] ?? 'invalid TOML';
      throw new OpsError('OPS_ERR_CONFIG_PARSE', `${file}:${err.line}:${err.column}: ${reason}`, {
        details: { file, line: err.line, column: err.column }, cause: err,
      });
    }
    throw err;
  }
}

function mergeEnv(tree: Tree, env: NodeJS.ProcessEnv, prefix: string, origins: Origins): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const path = name.slice(prefix.length).toLowerCase().split('__').filter((p) => p !== '');
    if (path.length === 0) continue;
    setPath(tree, path, envValue(raw));
    origins.env.set(path.join('.'), name);
  }
}

/** An env value is read as a TOML value when it is one (5, true, ["a"], "quoted"), else as a plain string. */
function envValue(raw: string): unknown {
  try {
    return (parseToml(`v = ${raw}`) as { v: unknown }).v;
  } catch {
    return raw;
  }
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

interface Problem { text: string; key: string; line?: number | undefined }

function describeIssue(issue: z.core.$ZodIssue, origins: Origins): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => problem([...issue.path, k], 'unknown key (check its spelling and the section it is in)', origins));
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const inner = issue.errors.flat()[0];
    if (inner) return describeIssue({ ...inner, path: [...issue.path, ...inner.path] }, origins);
  }
  return [problem(issue.path, issue.message, origins)];
}

function problem(path: Path, message: string, origins: Origins): Problem {
  const key = path.map(String).join('.');
  const where = whereFrom(key, origins);
  return { text: `${where.label}: ${key === '' ? '(top level)' : `key "${key}"`}: ${message}`, key, line: where.line };
}

function whereFrom(key: string, origins: Origins): { label: string; line?: number } {
  const parts = key === '' ? [] : key.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const prefix = parts.slice(0, n).join('.');
    const flag = origins.flags.get(prefix);
    if (flag) return { label: `flag ${flag}` };
    const env = origins.env.get(prefix);
    if (env) return { label: `environment ${env}` };
    const line = origins.lines.get(prefix);
    if (line !== undefined && origins.file !== undefined) return { label: `${origins.file}:${line}`, line };
  }
  return { label: origins.file ?? 'config' };
}

/**
 * Maps each dotted key path of a TOML document to the line that defines it. Tables map to their
 * header line; array-of-table entries are numbered ("targets.2.name"). Pure text scan, no I/O.
 */
export function locateKeys(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table: string[] = [];
  let inMultiline = false;
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const line = (rows[i] as string).trim();
    const quotes = (line.match(/"""|'''/g) ?? []).length;
    if (inMultiline) {
      if (quotes % 2 === 1) inMultiline = false;
      continue;
    }
    if (quotes % 2 === 1) inMultiline = true;
    if (line === '' || line.startsWith('#')) continue;
    const arrayHeader = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(line);
    const header = arrayHeader ? null : /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (arrayHeader) {
      const base = splitKey(arrayHeader[1] as string).join('.');
      const n = arrayCounts.get(base) ?? 0;
      arrayCounts.set(base, n + 1);
      table = [...base.split('.'), String(n)];
      if (!lines.has(base)) lines.set(base, i + 1);
      lines.set(table.join('.'), i + 1);
    } else if (header) {
      table = resolveArrays(splitKey(header[1] as string), arrayCounts);
      lines.set(table.join('.'), i + 1);
    } else {
      const eq = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=/.exec(line);
      if (eq) lines.set([...table, ...splitKey(eq[1] as string)].join('.'), i + 1);
    }
  }
  return lines;
}

function splitKey(key: string): string[] {
  return [...key.matchAll(/"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** In "[targets.labels]" after "[[targets]]", "targets" means its latest entry. */
function resolveArrays(parts: string[], arrayCounts: Map<string, number>): string[] {
  const out: string[] = [];
  for (const part of parts) {
    out.push(part);
    const n = arrayCounts.get(out.join('.'));
    if (n !== undefined) out.push(String(n - 1));
  }
  return out;
}
