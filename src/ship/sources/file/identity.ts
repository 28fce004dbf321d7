// File identity: device + inode + a fingerprint of the first bytes, so a rotated file keeps its
// checkpoint and a reused inode does not inherit one. A checkpoint also fingerprints the bytes just
// before its offset (its tail mark): a file that reuses the inode and starts with the same header
// still differs there, while an append-only file never changes them. Entry ids come from a random
// identity minted when a file (or a new generation of it, after a truncation) is first seen and
// kept in its checkpoint: unique per file generation, stable across restarts.
import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { FileCheckpoint } from '../../checkpoint.ts';

/** A fingerprint of a file's last `bytes` bytes before `end` (fingerprint_bytes of them, fewer near its start). */
export interface TailMark {
  end: number;
  bytes: number;
  /** Hex SHA-256 of the bytes `end - bytes` to `end`. */
  fingerprint: string;
}

/** A file checkpoint with the id prefix of its entries, so ids stay the same after a restart. */
export interface TailCheckpoint extends FileCheckpoint {
  /** The identity part of entry ids ("<idPrefix>:<offset>"). */
  idPrefix?: string;
  /**
   * The bytes before the offset (end = offset, or an earlier end when the bytes right before it
   * were not at hand). Missing in checkpoints of older versions: those resume on the first bytes alone.
   */
  tail?: TailMark;
}

/** Key of a file in the checkpoint store: device and inode (the fingerprint is checked on use). */
export function identityKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/** Hex SHA-256 of `bytes`. */
export function fingerprintOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A new identity for the entry ids of a file generation: 64 random bits in base36. Device, inode
 * and first bytes cannot serve: a file first seen empty has no first bytes, and ext4 hands a freed
 * inode to the next file, so two files would share ids.
 * @example newIdPrefix() // "3k9x0c1m2z8q"
 */
export function newIdPrefix(): string {
  return randomBytes(8).readBigUInt64BE(0).toString(36);
}

/**
 * The identity of checkpoints written before ids were random (they have no idPrefix): base36 of a
 * hash of device, inode and fingerprint, as those versions computed it, so their ids stay the same.
 */
export function legacyIdPrefix(dev: number, ino: number, fingerprint: string): string {
  const digest = createHash('sha256').update(`${dev}:${ino}:${fingerprint}:`).digest();
  return digest.readBigUInt64BE(0).toString(36);
}

/** The first up-to-`max` bytes of an open file, fingerprinted. */
export async function readFingerprint(fh: FileHandle, max: number): Promise<{ fingerprint: string; bytes: number }> {
  const buf = Buffer.alloc(max);
  let got = 0;
  while (got < max) {
    const { bytesRead } = await fh.read(buf, got, max - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return { fingerprint: fingerprintOf(buf.subarray(0, got)), bytes: got };
}

/** Whether a saved checkpoint is this file: the first `fingerprintBytes` bytes still hash the same (see also matchesTail). */
export async function matchesCheckpoint(fh: FileHandle, size: number, cp: FileCheckpoint): Promise<boolean> {
  if (size < cp.fingerprintBytes) return false;
  const { fingerprint, bytes } = await readFingerprint(fh, cp.fingerprintBytes);
  return bytes === cp.fingerprintBytes && fingerprint === cp.fingerprint;
}

/** The bytes of an open file just before `end`: the last `max` of them, fewer when the file starts later or is shorter. */
export async function readBefore(fh: FileHandle, end: number, max: number): Promise<Buffer> {
  const from = Math.max(0, end - max);
  const buf = Buffer.alloc(end - from);
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * The tail mark of the `min(max, end)` bytes before `end`, taken from `bytes` (the file's bytes
 * from offset `at` on). Undefined when `bytes` does not hold all of them, or when they hold a NUL
 * byte: that may be a hole that is filled later (a preallocated file, a read over NFS racing a
 * writer), not content that stays.
 */
export function tailMark(bytes: Uint8Array, at: number, end: number, max: number): TailMark | undefined {
  const from = Math.max(0, end - max);
  if (end <= from || from < at || end > at + bytes.length) return undefined;
  const range = bytes.subarray(from - at, end - at);
  if (range.includes(0)) return undefined;
  return { end, bytes: end - from, fingerprint: fingerprintOf(range) };
}

/** A checkpoint's tail mark, when it has a well-formed one (the checkpoint file is not validated as a whole). */
export function tailOf(cp: TailCheckpoint): TailMark | undefined {
  const t = cp.tail;
  if (typeof t !== 'object' || t === null) return undefined;
  const { end, bytes, fingerprint } = t;
  if (!Number.isSafeInteger(end) || !Number.isSafeInteger(bytes) || bytes <= 0 || bytes > end || end > cp.offset || typeof fingerprint !== 'string') return undefined;
  return { end, bytes, fingerprint };
}

/**
 * Whether the file still holds the bytes a checkpoint's tail mark fingerprinted (true without a
 * mark). `before` (the file's bytes ending at `beforeEnd`, as readBefore returns them) saves the
 * read when it covers the mark, as it does when the mark ends at the offset.
 */
export async function matchesTail(fh: FileHandle, mark: TailMark | undefined, before: Buffer, beforeEnd: number): Promise<boolean> {
  if (!mark) return true;
  const at = beforeEnd - before.length;
  const from = mark.end - mark.bytes;
  let range: Buffer;
  if (from >= at && mark.end <= beforeEnd) range = before.subarray(from - at, mark.end - at);
  else range = await readBefore(fh, mark.end, mark.bytes);
  return range.length === mark.bytes && fingerprintOf(range) === mark.fingerprint;
}

/**
 * Whether an open file holds what a checkpoint recorded: the same first bytes, and the same bytes
 * before its offset (its tail mark). A file renamed away keeps both; a copy of the file made by
 * copytruncate has both too, so it can continue where the checkpoint is. Returns the bytes before
 * the offset (for the tailer) when it matches.
 */
export async function contentMatches(fh: FileHandle, size: number, cp: TailCheckpoint, maxFingerprintBytes: number): Promise<Buffer | undefined> {
  if (cp.offset > size || !(await matchesCheckpoint(fh, size, cp))) return undefined;
  const before = await readBefore(fh, cp.offset, maxFingerprintBytes);
  return (await matchesTail(fh, tailOf(cp), before, cp.offset)) ? before : undefined;
}
