// How entries become bytes on the wire and on disk: one JSON object per entry.
import type { LogEntry } from './types.ts';

/** An entry as one JSON line (without the newline). Field order: id, timestamp, source, level, message, fields. */
export function encodeEntry(entry: LogEntry): string {
  return JSON.stringify(entry);
}

/** Entries as NDJSON text, each line ending in "\n". */
export function encodeNdjson(entries: readonly LogEntry[]): string {
  let out = '';
  for (const e of entries) out += JSON.stringify(e) + '\n';
  return out;
}

/**
 * Rough size of an entry in bytes, for buffer and batch bounds (cheap, not exact): its strings
 * and top-level fields (a parsed line's fields may outweigh its message); a value that is not a
 * string counts 16.
 */
export function entrySize(entry: LogEntry): number {
  let size = entry.message.length + entry.source.length + 96;
  const fields = entry.fields;
  for (const key in fields) {
    const value = fields[key];
    size += key.length + (typeof value === 'string' ? value.length : 16) + 6;
  }
  return size;
}
