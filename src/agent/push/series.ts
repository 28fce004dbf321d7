// The samples the agent pushes: Prometheus-style series, and records (one collection each).

/** One sample of a series: a value and its time in Unix milliseconds. */
export interface Sample {
  value: number;
  timestampMs: number;
}

/**
 * A series and its samples. `labels` includes `__name__`.
 * @example { labels: { __name__: 'node_load1' }, samples: [{ value: 0.5, timestampMs: Date.now() }] }
 */
export interface TimeSeries {
  labels: Record<string, string>;
  samples: Sample[];
}

/** One collection: when it was taken and what it found. The unit batches are counted in. */
export interface PushRecord {
  timestampMs: number;
  series: TimeSeries[];
}

/** Records sealed together, numbered by the pusher; `seq` never changes across retries. */
export interface PushBatch {
  seq: number;
  records: PushRecord[];
}

/**
 * Where batches go (remote-write, the opsctl protocol). `send` resolves once the receiver accepted
 * the batch and throws a DeliveryError (src/core/retry.ts) saying whether a retry may succeed.
 * It must honour `signal`.
 */
export interface PushSink {
  /** Label value for metrics and logs: "remote_write", "opsctl". */
  readonly name: string;
  send(batch: PushBatch, signal: AbortSignal): Promise<void>;
}
