// The segment files of a disk buffer: `<id>.ndjson`, ids rising, NDJSON entries appended to the
// newest one. Here: their names, creating one durably, and the pass over them on open that drops
// the ones read before the last stop and cuts away a torn last line.
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ShipMetrics } from '../metrics.ts';

/** Where a reader is: segment id and byte offset of the next line. */
export interface Position {
  segment: number;
  offset: number;
}

export interface Segment {
  id: number;
  /** Bytes written and fsynced (what a reader may read). */
  size: number;
}

/** Bytes read from a segment file at a time. */
export const readChunk = 1 << 20;
export const newline = 0x0a;

const segmentPattern = /^(\d{8,})\.ndjson$/;

export const segmentName = (id: number): string => `${String(id).padStart(8, '0')}.ndjson`;

export const segmentPath = (dir: string, id: number): string => join(dir, segmentName(id));

/** The ids of the segment files among a directory's entry names, oldest first. */
export function segmentIds(names: readonly string[]): number[] {
  return names.flatMap((name) => {
    const m = segmentPattern.exec(name);
    return m ? [Number(m[1])] : [];
  }).sort((a, b) => a - b);
}

/** Creates segment `id` (which must not exist yet) for appending, with its directory entry fsynced. */
export async function createSegment(dir: string, id: number): Promise<FileHandle> {
  const fh = await open(segmentPath(dir, id), 'wx', 0o644);
  await syncDir(dir).catch(async (err: unknown) => {
    await fh.close();
    throw err;
  });
  return fh;
}

/** What a buffer directory holds on open: the live segments, where reading starts, and the lines and bytes from there on. */
export interface Recovered {
  segments: Segment[];
  start: Position;
  events: number;
  bytes: number;
}

/**
 * Reconciles the segment files `ids` (oldest first) with the saved reader position (undefined: none
 * valid, read from the oldest): deletes the segments before it, counts the lines from it on and cuts
 * away an unterminated last line (logged and counted).
 */
export async function recoverSegments(
  options: { dir: string; sink: string; metrics: ShipMetrics; log: Logger },
  ids: readonly number[],
  state: Position | undefined,
): Promise<Recovered> {
  const { dir, log } = options;
  let start: Position = { segment: ids[0] ?? 1, offset: 0 };
  if (state !== undefined) {
    const first = ids.find((id) => id >= state.segment);
    if (first !== undefined) start = first === state.segment ? state : { segment: first, offset: 0 };
    else start = { segment: state.segment + 1, offset: 0 };
  }
  const segments: Segment[] = [];
  let events = 0;
  let bytes = 0;
  for (const id of ids) {
    const file = segmentPath(dir, id);
    if (id < start.segment) {
      await unlink(file).catch(() => undefined); // read to the end before the last stop
      continue;
    }
    const from = id === start.segment ? start.offset : 0;
    const scan = await scanSegment(file, from);
    if (scan.torn > 0) {
      log.warn({ file, bytes: scan.torn }, 'disk buffer torn last line removed');
      options.metrics.errors.inc({ component: options.sink, kind: 'sink', error: 'buffer_torn_line' });
    }
    if (scan.from !== from) {
      log.warn({ file, offset: from, size: scan.size }, 'disk buffer reader offset past the segment end');
      start = { segment: id, offset: scan.from };
    }
    segments.push({ id, size: scan.size });
    events += scan.events;
    bytes += scan.size - scan.from;
  }
  return { segments, start, events, bytes };
}

/** Counts the lines of a segment from `from` and cuts away an unterminated tail (a crash mid-append). */
async function scanSegment(file: string, from: number): Promise<{ size: number; from: number; events: number; torn: number }> {
  const fh = await open(file, 'r+');
  try {
    const size = (await fh.stat()).size;
    const start = Math.min(from, size);
    const chunk = Buffer.allocUnsafe(readChunk);
    let events = 0;
    let lastEnd = start; // just after the last newline
    for (let pos = start; pos < size;) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, size - pos), pos);
      if (bytesRead === 0) break;
      const got = chunk.subarray(0, bytesRead);
      for (let i = got.indexOf(newline); i >= 0; i = got.indexOf(newline, i + 1)) {
        events++;
        lastEnd = pos + i + 1;
      }
      pos += bytesRead;
    }
    const torn = size - lastEnd;
    if (torn > 0) {
      await fh.truncate(lastEnd);
      await fh.sync();
    }
    return { size: lastEnd, from: start, events, torn };
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
