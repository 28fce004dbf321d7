// The contract of a sink buffer: entries wait here between the pipeline and the sink's writer.
import type { Ack } from '../ack.ts';
import type { LogEntry } from '../types.ts';

/** Entries taken for one delivery; they stay in the buffer (in flight) until `commit`. */
export interface Taken {
  entries: LogEntry[];
  /** Approximate bytes (entrySize sum) of these entries. */
  bytes: number;
}

/**
 * A bounded queue of entries in front of one sink. One batch is in flight at a time: `take` hands
 * out the oldest entries, the sink delivers them (retrying as long as it takes), then `commit`.
 *
 * Acknowledgment: a memory buffer completes the upstream acks of entries once they are committed
 * (delivered); a disk buffer completes them once they are written and fsynced to disk (they
 * survive a restart from there on).
 */
export interface SinkBuffer {
  /**
   * Adds entries with the ack to complete for them (the buffer calls ack.done() exactly once).
   * when_full = "block": waits for room (backpressure) and resolves true. "drop_newest": resolves
   * false at once when there is no room, after calling ack.done() (the drop is the caller's to count).
   * An empty `entries` completes the ack at once.
   */
  push(entries: LogEntry[], ack: Ack): Promise<boolean>;
  /**
   * The oldest entries, up to `maxEvents` and about `maxBytes` (at least one entry), waiting up to
   * `timeoutMs` for `maxEvents` to be available once at least one is; resolves undefined when
   * `signal` aborts or the buffer is closed and empty. Only one take may be outstanding (uncommitted).
   */
  take(maxEvents: number, maxBytes: number, timeoutMs: number, signal: AbortSignal): Promise<Taken | undefined>;
  /** The last taken entries were delivered (or handed elsewhere): drop them for good. */
  commit(taken: Taken): Promise<void>;
  /** Events and approximate bytes waiting, in flight included. */
  readonly events: number;
  readonly bytes: number;
  /** No more pushes; pending takes resolve once the buffer is empty. */
  end(): void;
  /** Frees files and timers; a disk buffer keeps its unsent entries for the next start. */
  close(): Promise<void>;
  /**
   * Entries still held in memory, with their incomplete acks (in flight included), once the sink
   * stopped delivering. Only a memory buffer has any: a disk buffer's are kept on disk.
   */
  leftovers?(): Array<{ entries: LogEntry[]; ack: Ack }>;
}
