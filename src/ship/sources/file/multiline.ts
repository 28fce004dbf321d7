// Multiline events: lines joined with "\n" into one message, by a start or a continuation pattern.

/** How lines are grouped (validated at config load). */
export interface MultilineOptions {
  /** A line matching it starts an event; others continue the pending one. */
  startPattern?: RegExp | undefined;
  /** A line matching it continues the pending event; others start one. */
  continuationPattern?: RegExp | undefined;
  maxLines: number;
}

/** One finished event: message, byte offsets of its first line's start and its last line's end, flags. */
export type EventHandler = (text: string, start: number, end: number, flags: number, originalBytes: number) => void;

/**
 * Groups lines into events. An event is emitted when the next start line arrives, when it reaches
 * `maxLines`, or on `flush()` (the caller's timeout, or the file is released).
 * @example
 *   const ml = new Multiline({ startPattern: /^\d{4}-/, maxLines: 500 });
 *   ml.line(text, start, end, flags, 0, emitEvent);
 */
export class Multiline {
  readonly #options: MultilineOptions;
  #lines: string[] = [];
  #start = 0;
  #end = 0;
  #flags = 0;

  constructor(options: MultilineOptions) {
    this.#options = options;
  }

  /** Whether an event is pending. */
  get pending(): boolean {
    return this.#lines.length > 0;
  }

  /** Offset of the pending event's first byte (the checkpoint must not pass it). */
  get pendingStart(): number {
    return this.#start;
  }

  /** Adds one line; may emit the event it ends. */
  line(text: string, start: number, end: number, flags: number, _originalBytes: number, emit: EventHandler): void {
    const { startPattern, continuationPattern } = this.#options;
    const continues = this.#lines.length > 0 && (startPattern ? !startPattern.test(text) : continuationPattern?.test(text) === true);
    if (!continues) {
      this.flush(emit);
      this.#start = start;
    }
    this.#lines.push(text);
    this.#end = end;
    this.#flags |= flags;
    if (this.#lines.length >= this.#options.maxLines) this.flush(emit);
  }

  /** Emits the pending event, if any. */
  flush(emit: EventHandler): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? (this.#lines[0] as string) : this.#lines.join('\n');
    const flags = this.#flags;
    this.#lines = [];
    this.#flags = 0;
    emit(text, this.#start, this.#end, flags, 0);
  }

  /** Forgets the pending event (the file was truncated). */
  reset(): void {
    this.#lines = [];
    this.#flags = 0;
  }
}
