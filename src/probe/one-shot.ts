// `opsctl probe URL...`: probe a list of targets once, a few at a time, and report each in input order.
import { validate } from '../core/config.ts';
import { isOpsError, OpsError } from '../core/errors.ts';
import type { Expr } from '../core/expr.ts';
import type { Palette } from '../core/tty.ts';
import { moduleSchema, splitModule } from './config.ts';
import { probers as builtinProbers } from './probers/index.ts';
import { runProbe, type RunProbeResult } from './run-probe.ts';
import type { ParsedTarget } from './target-url.ts';
import type { Prober } from './types.ts';

export interface OneShotOptions {
  timeoutMs: number;
  conditions: readonly Expr[];
  concurrency: number;
  /** Collect each probe's debug log (for -v and --json -v). */
  debug: boolean;
  signal?: AbortSignal | undefined;
  /** Probers by name (tests inject fakes); default the probers map. */
  probers?: Readonly<Record<string, Prober>>;
}

/** A one-shot result, with the target as the user wrote it. */
export interface OneShotResult extends RunProbeResult {
  input: string;
  prober: string;
}

interface Planned {
  parsed: ParsedTarget;
  prober: Prober;
  settings: unknown;
}

/** Checks every target's module settings before anything runs: a bad one is OPS_ERR_USAGE naming it. */
function plan(targets: readonly ParsedTarget[], probers: Readonly<Record<string, Prober>>): Planned[] {
  return targets.map((parsed) => {
    let settings: unknown;
    try {
      ({ settings } = splitModule(validate(moduleSchema, { prober: parsed.prober, ...parsed.settings })));
    } catch (err) {
      const why = isOpsError(err) ? err.message.replace(/^config: /gm, '') : String(err);
      throw new OpsError('OPS_ERR_USAGE', `target "${parsed.input}": ${why}`, { details: { target: parsed.input }, cause: err });
    }
    return { parsed, prober: probers[parsed.prober] as Prober, settings };
  });
}

/**
 * Probes every target once, at most `concurrency` at a time. `onResult` sees results in input
 * order as soon as each and all before it are done, so output streams yet stays ordered.
 */
export async function probeOnce(targets: readonly ParsedTarget[], options: OneShotOptions, onResult?: (r: OneShotResult) => Promise<void> | void): Promise<OneShotResult[]> {
  const planned = plan(targets, options.probers ?? builtinProbers);
  const results: Array<Promise<OneShotResult>> = [];
  const starts: Array<() => void> = [];
  for (const p of planned) {
    results.push(new Promise<void>((resolve) => starts.push(resolve)).then(async () => ({
      ...await runProbe({
        prober: p.prober, moduleName: p.parsed.prober, settings: p.settings, target: p.parsed.target,
        timeoutMs: options.timeoutMs, conditions: options.conditions, debug: options.debug, signal: options.signal,
      }),
      input: p.parsed.input, prober: p.parsed.prober,
    })));
  }
  // A pool: each finished probe starts the next one waiting.
  let next = 0;
  const startNext = (): void => {
    const i = next++;
    const start = starts[i];
    if (start === undefined) return;
    start();
    void (results[i] as Promise<OneShotResult>).finally(startNext);
  };
  for (let i = 0; i < Math.min(options.concurrency, planned.length); i++) startNext();
  const done: OneShotResult[] = [];
  for (const r of results) {
    const result = await r;
    done.push(result);
    await onResult?.(result);
  }
  return done;
}

/** "123ms", "4.5ms", "1.23s". */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** One line per target: mark, target (padded to `width`), duration, and why it failed. */
export function formatResult(r: OneShotResult, width: number, colors: Palette, verbose: boolean): string {
  const mark = r.success ? colors.green('✓') : colors.red('✗');
  const line = `${mark} ${r.input.padEnd(width)}  ${formatMs(r.durationMs).padStart(7)}${r.success ? '' : `  ${r.reason ?? 'failed'}`}`;
  if (!verbose || r.success || !r.log || r.log.length === 0) return `${line}\n`;
  return `${line}\n${r.log.map((l) => `    ${colors.dim(l)}`).join('\n')}\n`;
}

/** The JSON form of a result (--json): the target as written, the prober, what it probed, then the result. */
export function resultJson(r: OneShotResult): Record<string, unknown> {
  return {
    target: r.input, prober: r.prober, probed: r.target, success: r.success, reason: r.reason,
    durationMs: r.durationMs, startedAt: new Date(r.startedAt).toISOString(), phases: r.phases, details: r.details, log: r.log,
  };
}
