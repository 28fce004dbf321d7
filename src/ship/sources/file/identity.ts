// File identity: device + inode + a fingerprint of the first bytes, so a rotated file keeps its
// checkpoint, a reused inode does not inherit one, and two copies are two files.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { FileCheckpoint } from '../../checkpoint.ts';

/** A file checkpoint with the id prefix of its entries, so ids stay the same after a restart. */
export interface TailCheckpoint extends FileCheckpoint {
  /** The identity part of entry ids ("<idPrefix>:<offset>"). */
  idPrefix?: string;
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
 * The short, stable identity used in entry ids: base36 of a hash of device, inode, fingerprint and
 * a salt (a truncation time, so a file rewritten in place does not reuse the old ids).
 * @example idPrefix(2049, 131, 'ab12...') // "3k9x0c1m2z8q"
 */
export function idPrefix(dev: number, ino: number, fingerprint: string, salt = ''): string {
  const digest = createHash('sha256').update(`${dev}:${ino}:${fingerprint}:${salt}`).digest();
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

/** Whether a saved checkpoint is this file: the first `fingerprintBytes` bytes still hash the same. */
export async function matchesCheckpoint(fh: FileHandle, size: number, cp: FileCheckpoint): Promise<boolean> {
  if (size < cp.fingerprintBytes) return false;
  const { fingerprint, bytes } = await readFingerprint(fh, cp.fingerprintBytes);
  return bytes === cp.fingerprintBytes && fingerprint === cp.fingerprint;
}
