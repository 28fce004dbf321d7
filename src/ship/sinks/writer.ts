// What the sink writers share: the byte count they expose, how a batch becomes lines of text, and
// how a failed attempt becomes a DeliveryError.
import { DeliveryError, toDeliveryError } from '../../core/retry.ts';
import { errnoCode } from '../../core/errors.ts';
import { encodeEntry } from '../encode.ts';
import type { LogEntry, SinkWriter } from '../types.ts';

/** A writer that says how many bytes its last successful write delivered (the body before compression). */
export interface MeasuredWriter extends SinkWriter {
  lastBytes?: number;
}

/** Called for an entry that cannot be encoded (a BigInt or a cycle in its fields). */
export type OnBadEntry = (entry: LogEntry, err: unknown) => void;

/**
 * An entry as one JSON text. One that cannot be encoded is sent without its fields and with
 * `fields.encode_error` instead, so a bad field never stalls a sink in endless retries.
 */
export function encodeSafely(entry: LogEntry, onBad: OnBadEntry): string {
  try {
    return encodeEntry(entry);
  } catch (err) {
    onBad(entry, err);
    return encodeEntry({ ...entry, fields: { encode_error: err instanceof Error ? err.message : String(err) } });
  }
}

/**
 * Entries as NDJSON ("\n" after each), or as one JSON array.
 * String concatenation: measured faster than map + join for batches of 1000.
 */
export function encodeJson(entries: readonly LogEntry[], shape: 'ndjson' | 'array', onBad: OnBadEntry): string {
  let out = '';
  if (shape === 'ndjson') {
    for (const entry of entries) out += encodeSafely(entry, onBad) + '\n';
    return out;
  }
  for (const entry of entries) out += (out === '' ? '[' : ',') + encodeSafely(entry, onBad);
  return out === '' ? '[]' : out + ']';
}

/** Line encodings: one JSON object per line, or the message only. */
export type LineEncoding = 'ndjson' | 'text';

/**
 * Entries as lines, each ending in "\n".
 * @example encodeLines([entry('hi')], 'text', onBad) // "hi\n"
 */
export function encodeLines(entries: readonly LogEntry[], encoding: LineEncoding, onBad: OnBadEntry): string {
  if (encoding === 'ndjson') return encodeJson(entries, 'ndjson', onBad);
  let out = '';
  for (const entry of entries) out += entry.message + '\n';
  return out;
}

/**
 * The error of a failed attempt: an errno-coded error (ECONNRESET, ENOSPC) keeps its code as the
 * message; an abort of `signal` (shutdown) or of a timeout is retryable, as network errors are.
 */
export function attemptError(err: unknown, retryable = true): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const code = errnoCode(err);
  if (code === undefined) return toDeliveryError(err);
  return new DeliveryError(code, { retryable, details: { error: code }, cause: err });
}

/** A signal that fires on `signal` or after `timeoutMs`, whichever first. */
export function attemptSignal(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}
