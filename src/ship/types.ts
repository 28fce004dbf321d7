// The shipper's shared shapes: the event, batches with their acknowledgments, and the contract of
// each kind of component (source, transform, sink). Every component is one file exporting a
// definition `{ schema, create }`, listed in its folder's index.ts map.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Ack } from './ack.ts';
import type { ComponentCounters, ShipMetrics } from './metrics.ts';

/** Normalised levels; anything not recognised is "unknown". */
export const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'] as const;
export type Level = (typeof levels)[number];

/** One log event. */
export interface LogEntry {
  /** Stable for a file identity and byte offset ("<identity>:<offset>"), so a receiver can de-duplicate. */
  id: string;
  /** RFC 3339 UTC ("2026-11-22T10:00:00.000Z"): when read, unless a parser extracted one. */
  timestamp: string;
  /** The file path, or "stdin". */
  source: string;
  level: Level;
  /** The line (or multiline event), without its newline. */
  message: string;
  /** Parsed and added fields; flags such as `truncated: true`, `parse_error: "..."` live here. */
  fields: Record<string, unknown>;
}

/** Entries travelling together with the acknowledgment that completes when every sink downstream took them. */
export interface Batch {
  entries: LogEntry[];
  ack: Ack;
}

/** Where a dead-lettered entry goes (one NDJSON file per pipeline); writing is synchronous and never throws. */
export interface DeadLetter {
  /** Where the entries go (for log messages). */
  readonly path?: string;
  write(entries: readonly LogEntry[], reason: string, component: string): void;
}

/** What every component's factory receives. */
export interface ComponentContext {
  /** The component's key in the config (`app` for [sources.app]). */
  name: string;
  log: Logger;
  /** This component's in/out/dropped/error counters. */
  counters: ComponentCounters;
  /** Every shipper metric (file gauges, buffers, sinks...). */
  metrics: ShipMetrics;
  /** The pipeline's data dir (checkpoints, disk buffers, dead letters), created before components are. */
  dataDir: string;
  /** Directory of the config file, for relative paths (plugins). */
  configDir: string;
  deadLetter: DeadLetter;
}

/** A producer of batches. */
export interface Source {
  /**
   * Reads until `signal` aborts or the input ends (stdin at EOF), calling `emit` for each batch and
   * awaiting it: a pending emit is backpressure, and the source must not read on meanwhile.
   */
  run(emit: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void>;
  /** Called after the pipeline drained at shutdown: save what is left to save (checkpoints). */
  close?(): Promise<void>;
  /**
   * Called before the pipeline stops for a reload: keep what the next pipeline's source of the same
   * name can take over (open files that cannot be opened again: renamed away, deleted).
   */
  handOver?(): void;
}

/** A step between sources and sinks. */
export interface Transform {
  /**
   * Entries in, entries out: may change, drop (counting it with counters.dropped) or add entries.
   * Never throws for bad data (counts it and follows its on_error); may be async.
   */
  process(entries: LogEntry[]): LogEntry[] | Promise<LogEntry[]>;
  /** Frees timers, workers, files. */
  close?(): Promise<void>;
}

/** The protocol end of a sink; batching, buffering, retries and failover are the pipeline's. */
export interface SinkWriter {
  /**
   * Delivers one batch and resolves once the receiver has it (HTTP 2xx, written to the socket /
   * file). Throws a DeliveryError (core/retry.ts) saying whether a retry may succeed. Honours `signal`.
   */
  write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void>;
  /** Closes connections and files. */
  close?(): Promise<void>;
}

/** A component kind's registry entry: its strict schema (with `type` as a literal) and its factory. */
export interface Definition<S extends z.ZodType, T> {
  schema: S;
  create(config: z.output<S>, ctx: ComponentContext): T | Promise<T>;
}
