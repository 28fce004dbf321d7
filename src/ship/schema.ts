// Config pieces every component kind shares: inputs, on_error, and the sink keys the pipeline owns
// (buffer, batch, retry, fallback). Component files spread these into their strict schemas.
import { z } from 'zod';
import { duration, size } from '../core/config.ts';

/** Names of the sources or transforms a component reads from. */
export const inputs = z.array(z.string().min(1)).min(1, 'needs at least one input (a source or transform name)');

/** What to do with an entry a component cannot handle (parse failure, plugin error). */
export const onErrorModes = ['pass', 'drop', 'dead_letter'] as const;
export type OnError = (typeof onErrorModes)[number];
export const onError = z.enum(onErrorModes).default('pass');

export const bufferSchema = z.strictObject({
  /** memory: bounded by events and bytes, lost on restart (checkpoints replay it); disk: bounded by bytes, survives restart. */
  type: z.enum(['memory', 'disk']).default('memory'),
  /** Memory buffers: most events waiting. */
  max_events: z.number().int().positive().default(10_000),
  /** Most bytes waiting (memory: approximate; disk: on disk). */
  max_bytes: size().prefault('32MiB'),
  /** block: stop reading upstream until there is room (nothing lost); drop_newest: drop and count. */
  when_full: z.enum(['block', 'drop_newest']).default('block'),
});
export type BufferConfig = z.output<typeof bufferSchema>;

export const batchSchema = z.strictObject({
  /** Most events in one request. */
  max_events: z.number().int().positive().default(1000),
  /** Most encoded bytes in one request (approximate). */
  max_bytes: size().prefault('1MiB'),
  /** How long a partial batch waits for more events before it is sent. */
  timeout: duration().prefault('1s'),
});
export type BatchConfig = z.output<typeof batchSchema>;

export const retrySchema = z.strictObject({
  /** Retries of one batch after its first attempt; unset means unlimited (nothing is ever dropped). */
  max_retries: z.number().int().nonnegative().optional(),
  initial_backoff: duration().prefault('500ms'),
  max_backoff: duration().prefault('30s'),
});
export type RetryConfig = z.output<typeof retrySchema>;

/** Keys every sink has; a sink's schema is z.strictObject({ type: z.literal('x'), ...sinkKeys, ...its own }). */
export const sinkKeys = {
  /** Sources or transforms to read from; empty for a sink that only serves as another's fallback. */
  inputs: z.array(z.string().min(1)).default([]),
  /** A sink that takes the batches while this one is failing, until it recovers. */
  fallback: z.string().min(1).optional(),
  buffer: bufferSchema.prefault({}),
  batch: batchSchema.prefault({}),
  retry: retrySchema.prefault({}),
  /** Timeout of one delivery attempt. */
  request_timeout: duration().prefault('30s'),
};
