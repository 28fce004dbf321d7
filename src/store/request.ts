// Key bytes and request checks shared by both backends, so both order keys alike and reject the
// same malformed requests with the same code.
import { OpsError } from '../core/errors.ts';
import type { Op, TxnRequest } from './types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const keyBytes = (key: string): Uint8Array => encoder.encode(key);
export const bytesKey = (bytes: Uint8Array): string => decoder.decode(bytes);

/**
 * The first key after every key that starts with `prefix` (etcd's prefix range end), or undefined
 * when no key is past them all ('' and prefixes of 0xff bytes).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i]! += 1;
      return end;
    }
  }
  return undefined;
}

/** The smallest key greater than `key`. */
export const keyAfter = (key: string): Uint8Array => {
  const bytes = keyBytes(key);
  const next = new Uint8Array(bytes.length + 1);
  next.set(bytes);
  return next;
};

function requestError(message: string, details: Record<string, unknown> = {}): OpsError {
  return new OpsError('OPS_ERR_STORE_REQUEST', message, { details });
}

export function checkKey(key: string): void {
  if (key === '') throw requestError('store key is empty');
}

export function checkRevision(revision: number, what: string): void {
  if (!Number.isSafeInteger(revision) || revision < 0) throw requestError(`${what} must be a non-negative integer, got ${revision}`);
}

/** Revisions start at 1; etcd would read 0 as "now", so both backends refuse it. */
export function checkFromRevision(revision: number): void {
  checkRevision(revision, 'fromRevision');
  if (revision < 1) throw requestError('fromRevision must be >= 1 (leave it out to watch from now)');
}

/** Rejects empty keys, two writes of one key and a put under a prefix deleted in the same branch (etcd refuses them too). */
export function checkTxn(request: TxnRequest): void {
  for (const c of request.compare ?? []) {
    checkKey(c.key);
    if (c.target !== 'value') checkRevision(c.value, `compare ${c.target}`);
  }
  checkBranch(request.success);
  checkBranch(request.failure ?? []);
}

function checkBranch(ops: readonly Op[]): void {
  const puts = new Set<string>();
  const deletes: Array<{ key: string; prefix: boolean }> = [];
  for (const op of ops) {
    if (op.op === 'get') continue;
    if (op.op === 'delete') {
      if (!op.prefix) checkKey(op.key);
      deletes.push({ key: op.key, prefix: op.prefix === true });
      continue;
    }
    checkKey(op.key);
    if (puts.has(op.key)) throw requestError(`duplicate key in one transaction: ${op.key}`, { key: op.key });
    puts.add(op.key);
  }
  for (const d of deletes) {
    for (const key of puts) {
      if (d.prefix ? key.startsWith(d.key) : key === d.key) throw requestError(`a transaction puts and deletes ${key}`, { key });
    }
  }
}
