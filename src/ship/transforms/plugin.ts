// The plugin transform: runs a user's ES module `transform(entry)` over each entry, in a worker
// thread (default) or inline, isolating its errors, bad outputs and timeouts from the pipeline.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { z } from 'zod';
import { duration } from '../../core/config.ts';
import { OpsError } from '../../core/errors.ts';
import { inputs, onError } from '../schema.ts';
import { levels, type ComponentContext, type Definition, type Level, type LogEntry, type Transform } from '../types.ts';
import type { PluginResult } from './plugin/protocol.ts';
import { InlineRunner, WorkerRunner, type Runner } from './plugin/runner.ts';

const schema = z.strictObject({
  type: z.literal('plugin'),
  inputs,
  /** The module (.ts, .js or .mjs), relative to the config file's directory. */
  path: z.string().min(1),
  /** Longest one batch may take; past it the batch's entries are errors ("plugin_timeout"). */
  timeout: duration().prefault('1s'),
  /** pass: the input entry goes on with fields.plugin_error; drop; dead_letter. */
  on_error: onError,
  /** worker: a worker thread, terminated on timeout; inline: the shipper's thread (cannot stop an endless loop). */
  isolation: z.enum(['worker', 'inline']).default('worker'),
});

type ErrorKind = 'plugin' | 'plugin_timeout' | 'plugin_output';

/** Logs each kind of plugin error at most once per interval, with how many were not logged. */
class ErrorLog {
  readonly #log: Logger;
  readonly #interval: number;
  readonly #last = new Map<ErrorKind, { at: number; suppressed: number }>();

  constructor(log: Logger, intervalMs = 10_000) {
    this.#log = log;
    this.#interval = intervalMs;
  }

  warn(kind: ErrorKind, error: string, entryId: string): void {
    const now = Date.now();
    const last = this.#last.get(kind);
    if (last && now - last.at < this.#interval) {
      last.suppressed++;
      return;
    }
    this.#log.warn({ error_kind: kind, error, entry: entryId, suppressed: last?.suppressed ?? 0 }, 'plugin error');
    this.#last.set(kind, { at: now, suppressed: 0 });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A plugin's output as an entry, missing keys filled from the input, or why it is not one.
 * Keys other than the entry's are dropped; a level that is not one of ours becomes "unknown".
 */
export function toEntry(value: unknown, input: LogEntry): LogEntry | string {
  if (!isRecord(value)) return `expected an entry object, got ${Array.isArray(value) ? 'an array' : typeof value}`;
  if (typeof value.message !== 'string') return 'the entry has no string "message"';
  for (const key of ['id', 'timestamp', 'source'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') return `"${key}" is not a string`;
  }
  if (value.fields !== undefined && !isRecord(value.fields)) return '"fields" is not an object';
  const level = value.level === undefined ? input.level : typeof value.level === 'string' ? value.level.toLowerCase() : 'unknown';
  return {
    id: (value.id as string | undefined) ?? input.id,
    timestamp: (value.timestamp as string | undefined) ?? input.timestamp,
    source: (value.source as string | undefined) ?? input.source,
    level: (levels as readonly string[]).includes(level) ? (level as Level) : 'unknown',
    message: value.message,
    fields: value.fields ?? input.fields,
  };
}

/** The outputs of one input: its entries, or an output error. */
function outputsOf(value: unknown, input: LogEntry): LogEntry[] | string {
  const list = Array.isArray(value) ? value : [value];
  const out: LogEntry[] = [];
  for (const item of list) {
    const e = toEntry(item, input);
    if (typeof e === 'string') return Array.isArray(value) ? `array item: ${e}` : e;
    out.push(e);
  }
  return out;
}

async function load(config: z.output<typeof schema>, ctx: ComponentContext): Promise<Runner> {
  const file = isAbsolute(config.path) ? config.path : resolve(ctx.configDir, config.path);
  const url = pathToFileURL(file).href;
  const log = ctx.log.child({ plugin: config.path });
  const runner = config.isolation === 'worker' ? new WorkerRunner(url, config.timeout, log) : new InlineRunner(url, config.timeout);
  try {
    await runner.start();
  } catch (err) {
    await runner.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new OpsError('OPS_ERR_CONFIG_INVALID', `transforms.${ctx.name}.path: cannot load plugin ${file}: ${reason}`, {
      details: { key: `transforms.${ctx.name}.path`, path: file }, cause: err,
    });
  }
  return runner;
}

/**
 * Runs a plugin module's `transform(entry)`, which returns an entry, an array of entries, or
 * null/undefined to drop it (reason "plugin"); it may be async. Errors are counted as
 * "plugin", "plugin_timeout" or "plugin_output" (one per input entry affected) and handled per
 * `on_error` (pass sets fields.plugin_error on the unchanged input).
 *
 * @example
 *   [transforms.enrich]
 *   type = "plugin"
 *   inputs = ["app"]
 *   path = "plugins/enrich.ts"   # export function transform(entry) { return { ...entry, fields: { ...entry.fields, team: 'web' } }; }
 *   timeout = "500ms"
 */
export const plugin = {
  schema,
  async create(config, ctx): Promise<Transform> {
    const runner = await load(config, ctx);
    const errors = new ErrorLog(ctx.log.child({ plugin: config.path }));

    return {
      async process(entries) {
        if (entries.length === 0) return [];
        const outcome = await runner.run(entries);
        const out: LogEntry[] = [];
        const deadLetters = new Map<ErrorKind, LogEntry[]>();
        let dropped = 0;
        let failed = 0;
        const fail = (input: LogEntry, kind: ErrorKind, error: string): void => {
          ctx.counters.error(kind);
          errors.warn(kind, error, input.id);
          if (config.on_error === 'pass') out.push({ ...input, fields: { ...input.fields, plugin_error: error } });
          else if (config.on_error === 'dead_letter') {
            const list = deadLetters.get(kind);
            if (list) list.push(input);
            else deadLetters.set(kind, [input]);
          }
          else failed++;
        };
        const results: PluginResult[] | undefined = Array.isArray(outcome) ? outcome : undefined;
        entries.forEach((input, i) => {
          const result = results?.[i];
          if (result === undefined) {
            fail(input, Array.isArray(outcome) ? 'plugin_output' : outcome.kind, Array.isArray(outcome) ? 'no result for the entry' : outcome.error);
          } else if (!result.ok) {
            fail(input, 'plugin', result.error);
          } else if (result.value === null || result.value === undefined) {
            dropped++;
          } else {
            const produced = outputsOf(result.value, input);
            if (typeof produced === 'string') fail(input, 'plugin_output', produced);
            else if (produced.length === 0) dropped++;
            else out.push(...produced);
          }
        });
        if (dropped > 0) ctx.counters.dropped('plugin', dropped);
        if (failed > 0) ctx.counters.dropped('plugin_error', failed);
        for (const [kind, list] of deadLetters) {
          ctx.deadLetter.write(list, kind, ctx.name);
          ctx.counters.dropped('dead_letter', list.length);
        }
        return out;
      },
      close: () => runner.close(),
    };
  },
} satisfies Definition<typeof schema, Transform>;
