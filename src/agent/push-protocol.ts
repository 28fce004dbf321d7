// The opsctl push protocol: how an agent posts batches of records to the control plane's ingest
// endpoint, and the schema the receiver validates them with. docs/agent-push.md describes it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PushRecord, TimeSeries } from './push/series.ts';

/** Version of this protocol: in the body (`version`) and the X-Opsctl-Push-Version header. */
export const pushProtocolVersion = 1;

/** Content type of a batch. */
export const pushContentType = 'application/json';

/** Records per batch unless configured otherwise. */
export const defaultBatchRecords = 10;

/** Header names of a push request (the idempotency key is repeated here so proxies can log it). */
export const pushHeaders = {
  version: 'X-Opsctl-Push-Version',
  hostId: 'X-Opsctl-Host-Id',
  idempotencyKey: 'Idempotency-Key',
} as const;

/** A sample value on the wire: a number, or one of the strings JSON has no number for. */
const wireValue = z.union([z.number(), z.enum(['NaN', '+Inf', '-Inf'])]);

const wireSeries = z.strictObject({
  labels: z.record(z.string(), z.string()).refine((l) => typeof l.__name__ === 'string' && l.__name__ !== '', 'labels must include __name__'),
  samples: z.array(z.strictObject({ value: wireValue, timestamp_ms: z.number().int() })),
});

const wireRecord = z.strictObject({
  timestamp_ms: z.number().int(),
  series: z.array(wireSeries),
});

/** The schema a receiver validates a batch with (strict: unknown keys are errors). */
export const pushBatchSchema = z.strictObject({
  version: z.literal(pushProtocolVersion),
  host_id: z.string().min(1),
  seq: z.number().int().min(0),
  idempotency_key: z.string().regex(/^[0-9a-f]{64}$/),
  records: z.array(wireRecord).min(1),
});

/** A batch as it is posted. */
export type WirePushBatch = z.infer<typeof pushBatchSchema>;

/**
 * The batch's idempotency key: lowercase hex SHA-256 of the UTF-8 string
 * `${host_id}\n${first_timestamp_ms}\n${seq}`, where first_timestamp_ms is the first record's
 * `timestamp_ms` as a decimal integer. A receiver that already accepted a key drops the replay.
 * @example idempotencyKey('web-1', 1700000000000, 7)
 */
export function idempotencyKey(hostId: string, firstTimestampMs: number, seq: number): string {
  return createHash('sha256').update(`${hostId}\n${Math.trunc(firstTimestampMs)}\n${seq}`, 'utf8').digest('hex');
}

function toWireValue(v: number): z.infer<typeof wireValue> {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return v;
}

/** A wire value back to a number (receiver side). */
export function fromWireValue(v: number | string): number {
  if (typeof v === 'number') return v;
  return v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : NaN;
}

function toWireSeries(s: TimeSeries): z.infer<typeof wireSeries> {
  return { labels: { ...s.labels }, samples: s.samples.map((p) => ({ value: toWireValue(p.value), timestamp_ms: Math.trunc(p.timestampMs) })) };
}

/**
 * The batch to post for `records` (at least one), numbered `seq` by the sender.
 * @example JSON.stringify(buildPushBatch('web-1', 0, [{ timestampMs: Date.now(), series }]))
 */
export function buildPushBatch(hostId: string, seq: number, records: readonly PushRecord[]): WirePushBatch {
  const first = records[0];
  if (first === undefined) throw new RangeError('a push batch needs at least one record');
  return {
    version: pushProtocolVersion,
    host_id: hostId,
    seq,
    idempotency_key: idempotencyKey(hostId, first.timestampMs, seq),
    records: records.map((r) => ({ timestamp_ms: Math.trunc(r.timestampMs), series: r.series.map(toWireSeries) })),
  };
}

/** The request headers of a batch. */
export function pushRequestHeaders(batch: Pick<WirePushBatch, 'host_id' | 'idempotency_key'>): Record<string, string> {
  return {
    'content-type': pushContentType,
    [pushHeaders.version]: String(pushProtocolVersion),
    [pushHeaders.hostId]: batch.host_id,
    [pushHeaders.idempotencyKey]: batch.idempotency_key,
  };
}

/** Splits records into batches of at most `size` (default 10), in order. */
export function chunkRecords<T>(records: readonly T[], size = defaultBatchRecords): T[][] {
  const n = Math.max(1, Math.trunc(size));
  const out: T[][] = [];
  for (let i = 0; i < records.length; i += n) out.push(records.slice(i, i + n));
  return out;
}
