// Store URLs: `sqlite:PATH` (the default, under data_dir) or `etcd://host:port,host:port`
// (`etcds://` for TLS). Pure: no file or network is touched here.
import { isAbsolute, join, resolve } from 'node:path';
import { OpsError } from '../core/errors.ts';

export type StoreTarget =
  | { backend: 'sqlite'; path: string }
  | { backend: 'etcd'; hosts: string[]; tls: boolean };

/** The store when none is configured: a SQLite file in data_dir. */
export const defaultStoreUrl = 'sqlite:store.db';

const forms = 'expected sqlite:PATH, etcd://HOST[:PORT][,HOST[:PORT]...] or etcds://...';

function urlError(url: string, why: string): OpsError {
  return new OpsError('OPS_ERR_STORE_URL', `store URL ${JSON.stringify(url)}: ${why}`, { details: { url } });
}

/**
 * Where a store URL points. A relative SQLite path is under `dataDir` (the working directory
 * without one); etcd hosts default to port 2379.
 *
 * @example
 *   parseStoreUrl('etcd://10.0.0.1,10.0.0.2:2479') // { backend: 'etcd', hosts: ['10.0.0.1:2379', '10.0.0.2:2479'], tls: false }
 */
export function parseStoreUrl(url: string, dataDir?: string): StoreTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw urlError(url, `no path: ${forms}`);
    if (path.startsWith('//')) throw urlError(url, 'write sqlite:/absolute/path or sqlite:relative/path (no //)');
    return { backend: 'sqlite', path: isAbsolute(path) ? path : dataDir === undefined ? resolve(path) : resolve(join(dataDir, path)) };
  }
  const scheme = /^(etcds?):\/\/(.*)$/.exec(url);
  if (!scheme) throw urlError(url, forms);
  const rest = scheme[2]!.replace(/\/$/, '');
  if (/[@/?#]/.test(rest)) throw urlError(url, 'only hosts and ports may follow the scheme (credentials and TLS files are options, not URL parts)');
  const hosts = rest.split(',').map((h) => host(url, h.trim()));
  return { backend: 'etcd', hosts, tls: scheme[1] === 'etcds' };
}

function host(url: string, text: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(text);
  if (!m) throw urlError(url, `${JSON.stringify(text)} is not host[:port]`);
  const port = m[2] === undefined ? 2379 : Number(m[2]);
  if (port < 1 || port > 65535) throw urlError(url, `port ${port} is out of range`);
  return `${m[1]!}:${port}`;
}
