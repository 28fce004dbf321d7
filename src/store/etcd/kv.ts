// etcd's protobuf key-values and ranges in the store's terms.
import type { IKeyValue } from 'etcd3';
import { keyBytes, prefixEnd } from '../request.ts';
import type { KV } from '../types.ts';

export function kvOf(kv: IKeyValue): KV {
  const out: KV = { key: kv.key.toString(), value: kv.value.toString(), createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision), version: Number(kv.version) };
  if (kv.lease !== '0' && kv.lease !== '') out.lease = kv.lease;
  return out;
}

/** etcd's [key, range_end) for a prefix; '' is every key ("\0" to "\0"). */
export function prefixRange(prefix: string): { key: Buffer; end: Buffer } {
  if (prefix === '') return { key: Buffer.of(0), end: Buffer.of(0) };
  const key = keyBytes(prefix);
  return { key: Buffer.from(key), end: Buffer.from(prefixEnd(key) ?? Uint8Array.of(0)) };
}
