// Splits byte chunks into lines with their byte offsets: bounded line length, a trailing "\r"
// dropped, invalid UTF-8 replaced and flagged. Shared by the file and stdin sources.
import { isAscii, isUtf8 } from 'node:buffer';

/** Flags of one line, as a bit set (0 for a clean line). */
export const TRUNCATED = 1;
export const INVALID_UTF8 = 2;

/**
 * Receives each complete line: its text, the byte offsets of its start and just past its newline,
 * its flags, and (when truncated) its original length in bytes without the newline.
 */
export type LineHandler = (text: string, start: number, end: number, flags: number, originalBytes: number) => void;

/**
 * Turns chunks into lines. Bytes after the last newline are kept (at most `maxLineBytes` of them)
 * until the newline arrives or `flush()` is called; a longer line keeps its first `maxLineBytes`
 * bytes and discards the rest up to the newline, so memory stays bounded even for garbage without
 * newlines.
 * @example
 *   const lines = new LineSplitter(1 << 20);
 *   lines.push(chunk, offset, (text, start) => entries.push(toEntry(text, start)));
 */
export class LineSplitter {
  readonly #max: number;
  /** Kept bytes of the partial line (at most #max). */
  #part: Buffer[] = [];
  #partLen = 0;
  /** Bytes of the partial line seen so far, kept or discarded. */
  #partTotal = 0;
  /** Offset of the partial line's first byte. */
  #partStart = 0;
  /** The last two bytes kept or discarded, to see the newline and a "\r" before it. */
  #lastByte = 0;
  #prevByte = 0;

  constructor(maxLineBytes: number) {
    this.#max = Math.max(1, maxLineBytes);
  }

  /** Bytes of an unfinished line seen so far (0 when the last chunk ended with a newline). */
  get partialBytes(): number {
    return this.#partTotal;
  }

  /** Offset where the unfinished line starts. */
  get partialStart(): number {
    return this.#partStart;
  }

  /** Forgets the partial line (after a truncation of the file). */
  reset(): void {
    this.#part = [];
    this.#partLen = 0;
    this.#partTotal = 0;
    this.#lastByte = 0;
    this.#prevByte = 0;
  }

  /** Splits `chunk`, whose first byte is at `offset` in the stream. */
  push(chunk: Buffer, offset: number, onLine: LineHandler): void {
    let pos = 0;
    const len = chunk.length;
    if (len === 0) return;
    if (this.#partTotal > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.#keep(chunk, 0, len);
        return;
      }
      this.#keep(chunk, 0, nl + 1);
      this.#emitPart(offset + nl + 1, onLine);
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= pos) {
      splitLines(chunk, pos, last + 1, offset, this.#max, onLine);
      pos = last + 1;
    }
    if (pos < len) {
      this.#partStart = offset + pos;
      this.#keep(chunk, pos, len);
    }
  }

  /** Emits the partial line, if any, as a line (the stream ended or the file is released). */
  flush(onLine: LineHandler): void {
    if (this.#partTotal === 0) return;
    this.#emitPart(this.#partStart + this.#partTotal, onLine);
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const room = this.#max + 2 - this.#partLen; // "\r\n" may follow a line of exactly #max bytes
    if (room > 0 && to > from) {
      const n = Math.min(room, to - from);
      this.#part.push(Buffer.from(chunk.subarray(from, from + n)));
      this.#partLen += n;
    }
    if (to - from >= 2) this.#prevByte = chunk[to - 2] ?? 0;
    else if (to > from) this.#prevByte = this.#lastByte;
    if (to > from) this.#lastByte = chunk[to - 1] ?? 0;
    this.#partTotal += to - from;
  }

  #emitPart(end: number, onLine: LineHandler): void {
    const buf = this.#part.length === 1 ? (this.#part[0] as Buffer) : Buffer.concat(this.#part, this.#partLen);
    const start = this.#partStart;
    let len = this.#partTotal;
    const newline = this.#lastByte === 10;
    if (newline) len--;
    if (len > 0 && (newline ? this.#prevByte : this.#lastByte) === 13) len--;
    this.reset();
    let flags = 0;
    let stop = len;
    if (len > this.#max) {
      flags = TRUNCATED;
      stop = cutAt(buf, 0, this.#max);
    }
    const sub = buf.subarray(0, stop);
    if (!isUtf8(sub)) flags |= INVALID_UTF8;
    onLine(sub.toString('utf8'), start, end, flags, flags & TRUNCATED ? len : 0);
  }
}

/** End of the first `max` bytes from `from`, moved back so a multibyte character is not cut in half. */
function cutAt(buf: Buffer, from: number, max: number): number {
  let cut = from + max;
  let back = 0;
  while (back < 3 && cut > from && ((buf[cut] ?? 0) & 0xc0) === 0x80) { cut--; back++; }
  return cut;
}

/** Splits the complete lines of chunk[from, to) (to is just past a newline). */
function splitLines(chunk: Buffer, from: number, to: number, base: number, max: number, onLine: LineHandler): void {
  if (isAscii(chunk.subarray(from, to))) {
    // Each line its own flat string: a substring of the chunk's string would keep all of it alive
    // for as long as the one line waits in a buffer.
    let s = from;
    while (s < to) {
      const nl = chunk.indexOf(10, s);
      let e = nl;
      if (e > s && chunk[e - 1] === 13) e--;
      if (e - s > max) onLine(chunk.toString('latin1', s, s + max), base + s, base + nl + 1, TRUNCATED, e - s);
      else onLine(chunk.toString('latin1', s, e), base + s, base + nl + 1, 0, 0);
      s = nl + 1;
    }
    return;
  }
  const valid = isUtf8(chunk.subarray(from, to));
  let s = from;
  while (s < to) {
    const nl = chunk.indexOf(10, s);
    let e = nl;
    if (e > s && chunk[e - 1] === 13) e--;
    let flags = 0;
    let original = 0;
    let stop = e;
    if (e - s > max) {
      flags = TRUNCATED;
      original = e - s;
      stop = cutAt(chunk, s, max);
    }
    if (!valid && !isUtf8(chunk.subarray(s, stop))) flags |= INVALID_UTF8;
    onLine(chunk.toString('utf8', s, stop), base + s, base + nl + 1, flags, original);
    s = nl + 1;
  }
}
