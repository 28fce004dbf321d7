// Push mode: every interval, one collection becomes one record for each pusher (remote-write, opsctl).
import type { Logger } from 'pino';
import type { MetricFamily } from '../types.ts';
import type { Pusher } from './pusher.ts';
import type { PushRecord } from './series.ts';

/**
 * Turns a collection into one record: a series per sample, `__name__` first, all stamped with
 * the collection's time. `extra` labels (e.g. instance) are added unless a sample has its own.
 */
export function familiesToRecord(families: readonly MetricFamily[], timestampMs: number, extra: Readonly<Record<string, string>> = {}): PushRecord {
  const series: PushRecord['series'] = [];
  for (const family of families) {
    for (const sample of family.samples) {
      series.push({ labels: { ...extra, ...sample.labels, __name__: family.name }, samples: [{ value: sample.value, timestampMs }] });
    }
  }
  return { timestampMs, series };
}

export interface CollectLoopOptions {
  collect: () => Promise<MetricFamily[]>;
  pushers: readonly Pusher[];
  intervalMs: number;
  log: Logger;
  extraLabels?: Readonly<Record<string, string>>;
}

/**
 * Collects on a fixed grid (not drifting with collection time) until stopped; a collection
 * that fails is logged and skipped, never fatal. Returns the stop function.
 */
export function startCollectLoop(options: CollectLoopOptions): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    running = options.collect().then((families) => {
      const record = familiesToRecord(families, Date.now(), options.extraLabels);
      for (const p of options.pushers) p.enqueue(record);
    }, (err: unknown) => options.log.error({ err }, 'push collection failed'));
  };
  const timer = setInterval(tick, options.intervalMs);
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
