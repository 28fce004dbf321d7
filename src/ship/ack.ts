// Reference-counted acknowledgment: a batch fanned out to three sinks, or split into two requests,
// completes once every part is done.

/**
 * Completes (calls `onDone` once) when `done()` was called as many times as the count, which
 * starts at one and grows with `retain`.
 * @example
 *   const ack = new Ack(() => checkpoint.advance(end));
 *   ack.retain(sinks.length - 1); // one part per sink
 *   for (const sink of sinks) sink.push(entries, ack); // each calls ack.done() once delivered
 */
export class Ack {
  #pending = 1;
  readonly #onDone: () => void;
  /**
   * False when the source cannot read these entries again (stdin): entries left undelivered at
   * shutdown then go to the dead-letter file instead of waiting to be re-read.
   */
  readonly replayable: boolean;

  constructor(onDone: () => void = () => undefined, options: { replayable?: boolean } = {}) {
    this.#onDone = onDone;
    this.replayable = options.replayable ?? true;
  }

  /** Parts still outstanding. */
  get pending(): number {
    return this.#pending;
  }

  /** Adds `n` more parts that must each call done(). */
  retain(n = 1): void {
    if (this.#pending <= 0) throw new Error('Ack.retain after completion');
    this.#pending += n;
  }

  /** One part is done; the last one completes the acknowledgment. */
  done(): void {
    if (this.#pending <= 0) throw new Error('Ack.done called too often');
    this.#pending--;
    if (this.#pending === 0) this.#onDone();
  }
}
