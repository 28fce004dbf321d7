// Runs one probe: timeout, timing, debug log, conditions. Shared by the one-shot command, the
// scheduler and /probe, so a result means the same thing everywhere.
import type { Expr } from '../core/expr.ts';
import type { ProbeLog, ProbeResult, Prober } from './types.ts';

export interface RunProbeOptions {
  prober: Prober;
  /** The module's name, for the result and metrics. */
  moduleName: string;
  /** The prober's own settings (already validated by its schema). */
  settings: unknown;
  target: string;
  timeoutMs: number;
  conditions?: readonly Expr[];
  /** Shutdown or a caller's cancel; the timeout is added to it. */
  signal?: AbortSignal | undefined;
  /** Collect the probe's debug lines into `log` on the result. */
  debug?: boolean;
}

export interface RunProbeResult extends ProbeResult {
  /** Debug lines when asked for. */
  log?: string[];
}

/**
 * Probes once and never throws: a prober bug or a timeout is a failed result with a reason.
 * Conditions run over the details plus `duration` (seconds) and `phases`.
 */
export async function runProbe(options: RunProbeOptions): Promise<RunProbeResult> {
  const lines: string[] = [];
  const started = performance.now();
  const startedAt = Date.now();
  const log: ProbeLog = {
    debug: (msg, fields) => { if (options.debug) lines.push(line('debug', started, msg, fields)); },
    info: (msg, fields) => { if (options.debug) lines.push(line('info', started, msg, fields)); },
  };
  // A timer cleared when the probe ends, not AbortSignal.timeout: that one keeps the signal, its
  // listeners and what they reference alive for the whole timeout after every probe.
  const controller = new AbortController();
  const signal = controller.signal;
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(new DOMException('probe timed out', 'TimeoutError')); }, Math.ceil(options.timeoutMs));
  const outer = options.signal;
  const onOuter = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const stopReason = (): string => (timedOut ? `timed out after ${options.timeoutMs}ms` : 'cancelled');
  let outcome: Awaited<ReturnType<Prober['probe']>>;
  try {
    outcome = await options.prober.probe({ target: options.target, module: options.settings as never, signal, timeoutMs: options.timeoutMs, log });
  } catch (err) {
    outcome = { success: false, reason: signal.aborted ? stopReason() : `internal error: ${String(err)}`, phases: {}, details: {} };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
  if (!outcome.success && signal.aborted && outcome.reason === undefined) outcome.reason = stopReason();
  const durationMs = performance.now() - started;
  const result: RunProbeResult = { ...outcome, target: options.target, module: options.moduleName, durationMs, startedAt };
  if (result.success && options.conditions) {
    const view = { ...result.details, duration: durationMs / 1000, phases: secondsOf(result.phases), success: true };
    const failed = options.conditions.find((c) => !c.test(view));
    if (failed) {
      result.success = false;
      result.reason = `condition failed: ${failed.source}`;
      log.info('condition failed', { condition: failed.source });
    }
  }
  log.info(result.success ? 'probe succeeded' : 'probe failed', { durationMs: Math.round(durationMs * 10) / 10, reason: result.reason });
  if (options.debug) result.log = lines;
  return result;
}

function secondsOf(phases: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(phases)) out[k] = v / 1000;
  return out;
}

function line(level: string, started: number, msg: string, fields?: Record<string, unknown>): string {
  const at = ((performance.now() - started) / 1000).toFixed(4);
  const extra = fields ? Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join('') : '';
  return `+${at}s ${level} ${msg}${extra}`;
}
