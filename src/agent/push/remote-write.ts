// Prometheus remote-write 1.0: a protobuf WriteRequest, snappy block compressed, POSTed.
import { versionInfo } from '../../core/version.ts';
import { postBatch, type FetchLike } from './http-send.ts';
import { ProtoWriter } from './protobuf.ts';
import type { PushBatch, PushRecord, PushSink, TimeSeries } from './series.ts';
import { snappyEncode } from './snappy.ts';

/** The request headers remote-write 1.0 requires. */
export function remoteWriteHeaders(): Record<string, string> {
  return {
    'content-encoding': 'snappy',
    'content-type': 'application/x-protobuf',
    'x-prometheus-remote-write-version': '0.1.0',
    'user-agent': `opsctl/${versionInfo().version}`,
  };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `WriteRequest { repeated TimeSeries timeseries = 1 }` with `TimeSeries { repeated Label labels = 1;
 * repeated Sample samples = 2 }`, `Label { string name = 1; string value = 2 }`,
 * `Sample { double value = 1; int64 timestamp = 2 }`; labels sorted by name, as Prometheus requires.
 */
export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const req = new ProtoWriter();
  for (const s of series) {
    const ts = new ProtoWriter();
    for (const [name, value] of Object.entries(s.labels).sort(([a], [b]) => byName(a, b))) {
      ts.bytes(1, new ProtoWriter().string(1, name).string(2, value).finish());
    }
    for (const p of s.samples) {
      ts.bytes(2, new ProtoWriter().double(1, p.value).int64(2, p.timestampMs).finish());
    }
    req.bytes(1, ts.finish());
  }
  return req.finish();
}

/** The series of `records`, one entry per label set, its samples in record order. */
export function mergeSeries(records: readonly PushRecord[]): TimeSeries[] {
  const bySet = new Map<string, TimeSeries>();
  for (const r of records) {
    for (const s of r.series) {
      const key = JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => byName(a, b)));
      const seen = bySet.get(key);
      if (seen) seen.samples.push(...s.samples);
      else bySet.set(key, { labels: s.labels, samples: [...s.samples] });
    }
  }
  return [...bySet.values()];
}

/** The remote-write body of a batch: merged series, encoded, snappy compressed. */
export function remoteWriteBody(batch: PushBatch): Uint8Array {
  return snappyEncode(encodeWriteRequest(mergeSeries(batch.records)));
}

export interface RemoteWriteSinkOptions {
  /** The receiver, e.g. http://prometheus:9090/api/v1/write. */
  url: string;
  /** Extra headers (authorization, X-Scope-OrgID...). */
  headers?: Record<string, string> | undefined;
  fetch?: FetchLike | undefined;
}

/**
 * A sink posting each batch as one remote-write request.
 * @example new Pusher({ sink: remoteWriteSink({ url: 'http://127.0.0.1:9090/api/v1/write' }), log, metrics })
 */
export function remoteWriteSink(options: RemoteWriteSinkOptions): PushSink {
  const headers = { ...remoteWriteHeaders(), ...options.headers };
  const fetchImpl = options.fetch ?? fetch;
  return {
    name: 'remote_write',
    send: (batch, signal) => postBatch(fetchImpl, options.url, headers, remoteWriteBody(batch), signal),
  };
}
