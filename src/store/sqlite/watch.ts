// A SQLite watch reads the log: from a past revision and live alike, a window of revisions at a
// time, so a lagging watcher holds little in memory and a compaction that passes it is noticed.
import { OpsError } from '../../core/errors.ts';
import type { WatchEvent } from '../types.ts';

/** Revisions read per step (etcd's watch batches are 1000 revisions too). */
const window = 1000;

export interface LogSource {
  readonly closed: boolean;
  revision(): number;
  compactRevision(): number;
  /** The events of revisions [from, to) for keys in [start, end), in order. */
  events(start: Uint8Array, end: Uint8Array, from: number, to: number): WatchEvent[];
  /** Resolves after the next commit, on close, or when `signal` aborts. */
  changed(signal: AbortSignal | undefined): Promise<void>;
}

/** Every event from revision `from` on; ends on close or abort. */
export async function* watchLog(source: LogSource, start: Uint8Array, end: Uint8Array, from: number, signal: AbortSignal | undefined): AsyncGenerator<WatchEvent> {
  let next = from;
  const stopped = (): boolean => source.closed || signal?.aborted === true;
  while (!stopped()) {
    const compacted = source.compactRevision();
    if (next < compacted) {
      throw new OpsError('OPS_ERR_STORE_COMPACTED', `watch from revision ${next}: compacted up to ${compacted}`, { details: { revision: next, compactRevision: compacted } });
    }
    const current = source.revision();
    if (next > current) {
      await source.changed(signal);
      continue;
    }
    const to = Math.min(next + window, current + 1);
    const events = source.events(start, end, next, to);
    next = to;
    for (const event of events) {
      yield event;
      if (stopped()) return;
    }
  }
}
