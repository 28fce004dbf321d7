// Messages between the plugin transform and its worker thread, and the plugin call both share.
import type { LogEntry } from '../../types.ts';

/** Worker -> main: the module loaded (or not), or the results of one batch. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'load_error'; message: string }
  | { type: 'result'; id: number; results: PluginResult[] };

/** Main -> worker: one batch to run. */
export interface BatchMessage { id: number; entries: LogEntry[] }

/** What a plugin's transform gave for one entry: its return value, or the message of what it threw. */
export type PluginResult = { ok: true; value: unknown } | { ok: false; error: string };

/** The plugin's function, as loaded. */
export type PluginFn = (entry: LogEntry) => unknown;

/** Imports a plugin module by URL and returns its transform export; throws a plain Error saying what is wrong. */
export async function loadPlugin(url: string): Promise<PluginFn> {
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = mod.transform;
  if (typeof fn !== 'function') throw new Error('the module has no "transform" function export');
  return fn as PluginFn;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs a plugin over a batch, one entry after another (async results awaited); never throws. */
export async function runBatch(fn: PluginFn, entries: readonly LogEntry[]): Promise<PluginResult[]> {
  const results: PluginResult[] = [];
  for (const entry of entries) {
    try {
      const value = fn(entry);
      const thenable = typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
      results.push({ ok: true, value: thenable ? await Promise.resolve(value) : value });
    } catch (err) {
      results.push({ ok: false, error: describe(err) });
    }
  }
  return results;
}
