// Every shipper metric, created once per process and kept across reloads (counters never reset).
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram, fqName } from '../core/metrics.ts';

export type ComponentKind = 'source' | 'transform' | 'sink';

/** One component's counters, bound to its labels. */
export interface ComponentCounters {
  /** Events (and bytes, when known) that entered the component. */
  received(events: number, bytes?: number): void;
  /** Events (and bytes, when known) that left it (for a sink: delivered). */
  sent(events: number, bytes?: number): void;
  /** Events dropped on purpose or by policy, by reason ("filter", "sample", "buffer_full", "parse_error"...). */
  dropped(reason: string, events: number): void;
  /** Errors by kind ("parse", "plugin", "invalid_utf8", "truncated", "http_400"...). */
  error(kind: string, count?: number): void;
}

const name = (...parts: string[]): string => fqName('opsctl', 'ship', ...parts);

export class ShipMetrics {
  readonly eventsIn: Counter<'component' | 'kind'>;
  readonly eventsOut: Counter<'component' | 'kind'>;
  readonly bytesIn: Counter<'component' | 'kind'>;
  readonly bytesOut: Counter<'component' | 'kind'>;
  readonly dropped: Counter<'component' | 'kind' | 'reason'>;
  readonly errors: Counter<'component' | 'kind' | 'error'>;
  readonly deadLettered: Counter<'component' | 'reason'>;
  readonly bufferEvents: Gauge<'sink'>;
  readonly bufferBytes: Gauge<'sink'>;
  readonly bufferMaxBytes: Gauge<'sink'>;
  readonly bufferMaxEvents: Gauge<'sink'>;
  readonly sinkLatency: Histogram<'sink'>;
  readonly sinkRetries: Counter<'sink'>;
  readonly sinkFailovers: Counter<'sink' | 'fallback'>;
  readonly sinkHealthy: Gauge<'sink'>;
  readonly fileOffset: Gauge<'component' | 'path'>;
  readonly fileCommitted: Gauge<'component' | 'path'>;
  readonly fileSize: Gauge<'component' | 'path'>;
  readonly fileLag: Gauge<'component' | 'path'>;
  readonly filesOpen: Gauge<'component'>;
  readonly filesDeletedOpen: Gauge<'component'>;
  readonly fileRotations: Counter<'component' | 'how'>;
  readonly deletedHoldExpired: Counter<'component'>;
  readonly checkpointWrites: Counter;
  readonly checkpointErrors: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    const ck = ['component', 'kind'] as const;
    this.eventsIn = new Counter({ name: name('events_in_total'), help: 'Events that entered a component.', labelNames: ck, registers });
    this.eventsOut = new Counter({ name: name('events_out_total'), help: 'Events that left a component (for a sink: delivered and acknowledged).', labelNames: ck, registers });
    this.bytesIn = new Counter({ name: name('bytes_in_total'), help: 'Bytes that entered a component (sources: bytes read).', labelNames: ck, registers });
    this.bytesOut = new Counter({ name: name('bytes_out_total'), help: 'Bytes that left a component (sinks: encoded bytes delivered).', labelNames: ck, registers });
    this.dropped = new Counter({ name: name('events_dropped_total'), help: 'Events dropped on purpose (filter, sample, throttle) or by policy (buffer full with drop_newest).', labelNames: [...ck, 'reason'] as const, registers });
    this.errors = new Counter({ name: name('errors_total'), help: 'Errors by component and kind (parse failures, plugin errors, invalid UTF-8, truncated lines, rejected batches).', labelNames: [...ck, 'error'] as const, registers });
    this.deadLettered = new Counter({ name: name('dead_letter_events_total'), help: 'Events written to the dead-letter file.', labelNames: ['component', 'reason'] as const, registers });
    this.bufferEvents = new Gauge({ name: name('buffer_events'), help: 'Events waiting in a sink buffer.', labelNames: ['sink'] as const, registers });
    this.bufferBytes = new Gauge({ name: name('buffer_bytes'), help: 'Bytes waiting in a sink buffer.', labelNames: ['sink'] as const, registers });
    this.bufferMaxBytes = new Gauge({ name: name('buffer_max_bytes'), help: 'Bound of a sink buffer in bytes.', labelNames: ['sink'] as const, registers });
    this.bufferMaxEvents = new Gauge({ name: name('buffer_max_events'), help: 'Bound of a memory sink buffer in events.', labelNames: ['sink'] as const, registers });
    this.sinkLatency = new Histogram({
      name: name('sink_request_duration_seconds'), help: 'Duration of one delivery attempt of a batch.', labelNames: ['sink'] as const, registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.sinkRetries = new Counter({ name: name('sink_retries_total'), help: 'Delivery attempts that failed and were retried.', labelNames: ['sink'] as const, registers });
    this.sinkFailovers = new Counter({ name: name('sink_failover_batches_total'), help: 'Batches sent to the fallback sink because the primary was failing.', labelNames: ['sink', 'fallback'] as const, registers });
    this.sinkHealthy = new Gauge({ name: name('sink_healthy'), help: '1 while the last delivery of a sink succeeded, 0 while it is failing.', labelNames: ['sink'] as const, registers });
    const cp = ['component', 'path'] as const;
    this.fileOffset = new Gauge({ name: name('file_read_offset_bytes'), help: 'Bytes of a file read so far.', labelNames: cp, registers });
    this.fileCommitted = new Gauge({ name: name('file_committed_offset_bytes'), help: 'Bytes of a file acknowledged by every sink downstream (the checkpoint).', labelNames: cp, registers });
    this.fileSize = new Gauge({ name: name('file_size_bytes'), help: 'Size of a tailed file at its last check.', labelNames: cp, registers });
    this.fileLag = new Gauge({ name: name('file_lag_bytes'), help: 'Bytes of a file not yet acknowledged downstream (size minus committed offset).', labelNames: cp, registers });
    this.filesOpen = new Gauge({ name: name('files_open'), help: 'Files a source holds open.', labelNames: ['component'] as const, registers });
    this.filesDeletedOpen = new Gauge({ name: name('files_deleted_open'), help: 'Deleted files still held open because they are not read to the end yet.', labelNames: ['component'] as const, registers });
    this.fileRotations = new Counter({ name: name('file_rotations_total'), help: 'Rotations seen, by how (rename, truncate, copy: a copy of a known file continued from its checkpoint).', labelNames: ['component', 'how'] as const, registers });
    this.deletedHoldExpired = new Counter({ name: name('file_deleted_hold_expired_total'), help: 'Deleted files closed before being read to the end because the hold bound expired (their unread bytes are lost).', labelNames: ['component'] as const, registers });
    this.checkpointWrites = new Counter({ name: name('checkpoint_writes_total'), help: 'Checkpoint files written.', registers });
    this.checkpointErrors = new Counter({ name: name('checkpoint_errors_total'), help: 'Checkpoint writes that failed.', registers });
  }

  /** Counters bound to one component. */
  component(kind: ComponentKind, component: string): ComponentCounters {
    const labels = { component, kind };
    return {
      received: (events, bytes) => {
        this.eventsIn.inc(labels, events);
        if (bytes !== undefined) this.bytesIn.inc(labels, bytes);
      },
      sent: (events, bytes) => {
        this.eventsOut.inc(labels, events);
        if (bytes !== undefined) this.bytesOut.inc(labels, bytes);
      },
      dropped: (reason, events) => { this.dropped.inc({ ...labels, reason }, events); },
      error: (error, count = 1) => { this.errors.inc({ ...labels, error }, count); },
    };
  }
}
