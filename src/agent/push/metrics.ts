// The push path's metrics, registered once per registry, labelled by sink.
import { Counter, Gauge, Histogram, fqName, type Registry } from '../../core/metrics.ts';

/** Why a batch was given up on. */
export type DropReason = 'ring_full' | 'rejected' | 'shutdown';

export interface PushMetrics {
  sent: Counter<'sink'>;
  retried: Counter<'sink'>;
  dropped: Counter<'sink' | 'reason'>;
  buffered: Gauge<'sink'>;
  duration: Histogram<'sink'>;
}

function existing<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/** The push metrics in `registry`, created on first use. */
export function pushMetrics(registry: Registry): PushMetrics {
  const name = (suffix: string): string => fqName('opsctl', 'agent', 'push', suffix);
  const registers = [registry];
  return {
    sent: existing(registry, name('batches_sent_total'), () => new Counter({
      name: name('batches_sent_total'), help: 'Batches the receiver accepted.', labelNames: ['sink'] as const, registers })),
    retried: existing(registry, name('batches_retried_total'), () => new Counter({
      name: name('batches_retried_total'), help: 'Failed attempts to send a batch that were retried (network error, timeout, 5xx, 429).', labelNames: ['sink'] as const, registers })),
    dropped: existing(registry, name('dropped_batches_total'), () => new Counter({
      name: name('dropped_batches_total'), help: 'Batches given up on, by reason: "ring_full" (oldest dropped to make room), "rejected" (4xx other than 408/429), "shutdown".', labelNames: ['sink', 'reason'] as const, registers })),
    buffered: existing(registry, name('buffered_batches'), () => new Gauge({
      name: name('buffered_batches'), help: 'Batches waiting in the ring, the one being sent included.', labelNames: ['sink'] as const, registers })),
    duration: existing(registry, name('duration_seconds'), () => new Histogram({
      name: name('duration_seconds'), help: 'Duration of one attempt to send a batch.', labelNames: ['sink'] as const, registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] })),
  };
}

/** Sets every label value of `sink` to 0 so the series exist before the first event. */
export function initPushMetrics(metrics: PushMetrics, sink: string): void {
  metrics.sent.inc({ sink }, 0);
  metrics.retried.inc({ sink }, 0);
  for (const reason of ['ring_full', 'rejected', 'shutdown'] as const) metrics.dropped.inc({ sink, reason }, 0);
  metrics.buffered.set({ sink }, 0);
}
