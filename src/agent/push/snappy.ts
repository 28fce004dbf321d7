// Snappy block format, encoder side, literal-only: valid for every decoder, no dependency.
import { encodeVarint } from './protobuf.ts';

/** Longest literal one element carries here (the format allows more; 64 KiB keeps tags small). */
const maxLiteral = 65_536;

/**
 * `data` as a snappy block (not the framed format): its length as a varint, then literal
 * elements. It does not shrink the data; remote-write needs valid snappy, not small snappy,
 * and literals keep the encoder small enough to trust without a dependency.
 * @example snappyEncode(new Uint8Array([1, 2, 3])) // [3, 8, 1, 2, 3]
 */
export function snappyEncode(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [encodeVarint(data.length)];
  for (let at = 0; at < data.length; at += maxLiteral) {
    const chunk = data.subarray(at, Math.min(at + maxLiteral, data.length));
    const n = chunk.length - 1;
    if (n < 60) parts.push(Uint8Array.of(n << 2));
    else if (n < 0x100) parts.push(Uint8Array.of(60 << 2, n));
    else parts.push(Uint8Array.of(61 << 2, n & 0xff, n >> 8));
    parts.push(chunk);
  }
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
