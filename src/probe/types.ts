// The contract between probers, the runner, the exporter and the alerting: one context in, one result out.
import type { z } from 'zod';

/** A debug log a probe writes as it goes; returned by `/probe?debug=true` and `opsctl probe -v`. */
export interface ProbeLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

/** What every prober receives. `module` is the prober's own settings, already validated. */
export interface ProbeContext<M = unknown> {
  /** As configured: a URL for http, "host:port" for tcp/tls/grpc, a host for icmp, a server for dns. */
  target: string;
  module: M;
  /** Aborted at the timeout or on shutdown; a prober stops all I/O when it fires. */
  signal: AbortSignal;
  timeoutMs: number;
  log: ProbeLog;
}

/**
 * What a prober found. It never throws for an unreachable or misbehaving target: that is
 * `success: false` with a `reason`.
 */
export interface ProbeOutcome {
  success: boolean;
  /** Why it failed, short and specific ("connection refused", "status 503 not in [200-299]"). */
  reason?: string;
  /** Phase timings in ms (http: resolve, connect, tls, processing, transfer). */
  phases: Record<string, number>;
  /**
   * Protocol facts, readable by conditions and metrics: http `status`, `body`, `headers`;
   * tls `cert_expiry` (seconds left); dns `rcode`, `answers`; icmp `loss` (percent), `rtt_avg`...
   * Durations are seconds and sizes bytes, as in the expression language.
   */
  details: Record<string, unknown>;
}

/** A finished probe, as the runner records it. */
export interface ProbeResult extends ProbeOutcome {
  target: string;
  module: string;
  durationMs: number;
  /** When the probe started, unix ms. */
  startedAt: number;
}

/** One sample a prober contributes to a `/probe` scrape, named as blackbox_exporter names it. */
export interface MetricSample {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labels?: Record<string, string>;
  value: number;
}

/**
 * One protocol. `schema` validates the prober's own module keys (strict: unknown keys are
 * errors); the common keys (prober, timeout, conditions) are added by the config.
 */
export interface Prober<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  probe(ctx: ProbeContext<z.output<S>>): Promise<ProbeOutcome>;
  /** The protocol's metrics for a result (probe_success and probe_duration_seconds are added by the caller). */
  metrics(result: ProbeResult): MetricSample[];
}
