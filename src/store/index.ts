// The state store's entry point: openStore(url) picks the backend from the URL.
import { readFileSync } from 'node:fs';
import { OpsError } from '../core/errors.ts';
import type { Store } from './types.ts';
import { parseStoreUrl } from './url.ts';

export type * from './types.ts';
export { defaultStoreUrl, parseStoreUrl, type StoreTarget } from './url.ts';

export interface StoreOptions {
  /** Where a relative `sqlite:` path lives (the config's data_dir). */
  dataDir?: string;
  /** etcd TLS: PEM files. A CA or client certificate turns TLS on for etcd:// too. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** etcd user authentication. */
  username?: string;
  password?: string;
  /** The deadline of one etcd call, in ms (default 5000). */
  timeoutMs?: number;
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new OpsError('OPS_ERR_STORE_URL', `store ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`, { details: { file }, cause: err });
  }
}

/**
 * Opens the store a URL names: `sqlite:PATH` (created if missing, owned by this process until
 * close()) or `etcd://host:2379,host:2379` / `etcds://...` (connects lazily: see health()).
 *
 * @example
 *   const store = await openStore('sqlite:store.db', { dataDir: '/var/lib/opsctl' });
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const target = parseStoreUrl(url, options.dataDir);
  if (target.backend === 'sqlite') {
    if (options.tls || options.username !== undefined) throw new OpsError('OPS_ERR_STORE_URL', `store URL ${url}: TLS and user options apply to etcd only`, { details: { url } });
    const { SqliteStore } = await import('./sqlite/store.ts');
    return new SqliteStore(target.path);
  }
  const { tls = {} } = options;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new OpsError('OPS_ERR_STORE_URL', 'etcd client TLS needs both a certificate and its key', { details: { url } });
  if (options.username !== undefined && options.password === undefined) throw new OpsError('OPS_ERR_STORE_URL', 'etcd user authentication needs a password', { details: { url } });
  const ca = readPem(tls.caFile, 'CA file');
  const cert = readPem(tls.certFile, 'client certificate');
  const key = readPem(tls.keyFile, 'client key');
  const { EtcdStore } = await import('./etcd/store.ts');
  return new EtcdStore({
    hosts: target.hosts,
    tls: target.tls || ca !== undefined || cert !== undefined,
    ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }),
    ...(options.username !== undefined && { username: options.username, password: options.password }),
    timeoutMs: options.timeoutMs ?? 5000,
  });
}
