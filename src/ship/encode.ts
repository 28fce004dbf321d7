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

/** Rough size of an entry in bytes, for buffer and batch bounds (cheap, not exact). */
export function entrySize(entry: LogEntry): number {
  return entry.message.length + entry.source.length + 96;
}
