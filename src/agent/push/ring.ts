// A fixed-capacity ring of batches kept while the receiver is down: oldest out first, and when
// full the oldest is dropped to make room (the caller counts it).

/** Batches the ring keeps unless configured otherwise. */
export const defaultRingCapacity = 1024;

/**
 * A FIFO of at most `capacity` items over a fixed array.
 * @example
 *   const ring = new Ring<string>(2);
 *   ring.push('a'); ring.push('b');
 *   ring.push('c'); // returns 'a', dropped; ring holds b, c
 */
export class Ring<T> {
  readonly capacity: number;
  readonly #slots: Array<T | undefined>;
  #head = 0;
  #length = 0;

  constructor(capacity = defaultRingCapacity) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.#length;
  }

  /** Appends `item`; when full, first removes and returns the oldest item. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#length === this.capacity) dropped = this.shift();
    this.#slots[(this.#head + this.#length) % this.capacity] = item;
    this.#length++;
    return dropped;
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#length--;
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#length > 0) out.push(this.shift() as T);
    return out;
  }
}
