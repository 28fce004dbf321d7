// The reader state file of a disk buffer (`reader.json`): the position of the oldest uncommitted
// entry, saved atomically so that a crash leaves either the old position or the new one.
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errnoCode } from '../../core/errors.ts';
import { writeAtomic } from '../checkpoint.ts';
import type { Position } from './segments.ts';

const stateName = 'reader.json';

export const statePath = (dir: string): string => join(dir, stateName);

/** Deletes the temp files a save cut short by a crash left among a directory's entry `names`. */
export async function removeStateTemps(dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (name.startsWith(`${stateName}.tmp-`)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** The saved position; undefined when there is none, or none valid (then with a warning). */
export async function loadState(file: string, log: Logger): Promise<Position | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') log.warn({ err, file }, 'cannot read disk buffer state, reading from the oldest segment');
    return undefined;
  }
  try {
    const data = JSON.parse(text) as { version?: unknown; segment?: unknown; offset?: unknown };
    if (data.version === 1 && Number.isSafeInteger(data.segment) && Number.isSafeInteger(data.offset) && (data.offset as number) >= 0) {
      return { segment: data.segment as number, offset: data.offset as number };
    }
  } catch {
    // fall through
  }
  log.warn({ file }, 'disk buffer state is not valid, reading from the oldest segment');
  return undefined;
}

/** Saves the position (temp file, fsync, rename, fsync of the directory). */
export function saveState(file: string, pos: Position): Promise<void> {
  return writeAtomic(file, JSON.stringify({ version: 1, segment: pos.segment, offset: pos.offset }));
}
