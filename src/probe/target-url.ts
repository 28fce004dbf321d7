// One-shot targets as URLs: the scheme picks the prober, the rest becomes its target and settings.
// Pure: `opsctl probe https://example.test tcp://db:5432 dns://1.1.1.1/example.test?type=MX`.
import { OpsError } from '../core/errors.ts';
import type { ProberName } from './probers/index.ts';

/** A one-shot target resolved to a prober, the target string it takes, and module settings. */
export interface ParsedTarget {
  /** As the user wrote it. */
  input: string;
  prober: ProberName;
  /** What the prober probes: the URL (http), "host:port" (tcp, tls, grpc), a host (icmp), the server (dns). */
  target: string;
  /** Module keys beyond the defaults (dns query_name/query_type, grpc tls). */
  settings: Record<string, unknown>;
}

/** The schemes one-shot targets may use, for help and error messages. */
export const targetSchemes: readonly string[] = ['http', 'https', 'tcp', 'tls', 'icmp', 'dns', 'grpc', 'grpcs'];

/**
 * Parses a one-shot target; OPS_ERR_USAGE naming the target when the scheme is unknown or the
 * rest does not fit it.
 * @example parseTarget('dns://127.0.0.1:5353/example.test?type=MX')
 *   // { prober: 'dns', target: '127.0.0.1:5353', settings: { query_name: 'example.test', query_type: 'MX' } }
 */
export function parseTarget(input: string): ParsedTarget {
  const bad = (why: string): OpsError => new OpsError('OPS_ERR_USAGE', `target "${input}": ${why}`, { details: { target: input } });
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input)?.[1]?.toLowerCase();
  if (scheme === undefined) throw bad(`expected a URL such as https://example.test or tcp://db:5432 (schemes: ${targetSchemes.join(', ')})`);
  if (!targetSchemes.includes(scheme)) throw bad(`unknown scheme "${scheme}://" (schemes: ${targetSchemes.join(', ')})`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw bad('not a valid URL');
  }
  if (url.hostname === '') throw bad('no host');
  if (url.username !== '' || url.password !== '') {
    if (scheme !== 'http' && scheme !== 'https') throw bad(`a ${scheme}:// target takes no user or password`);
  }
  if (scheme === 'http' || scheme === 'https') return { input, prober: 'http', target: input, settings: {} };

  const rest = (allowPath: boolean): void => {
    if (!allowPath && url.pathname !== '' && url.pathname !== '/') throw bad(`a ${scheme}:// target takes no path`);
    if (url.hash !== '') throw bad(`a ${scheme}:// target takes no #fragment`);
    if (scheme !== 'dns' && url.search !== '') throw bad(`a ${scheme}:// target takes no ?query`);
  };
  const hostPort = (defaultPort?: number): string => {
    const port = url.port !== '' ? url.port : defaultPort === undefined ? undefined : String(defaultPort);
    if (port === undefined) throw bad(`missing port (${scheme}://host:port)`);
    return `${url.hostname}:${port}`;
  };
  switch (scheme) {
    case 'tcp':
      rest(false);
      return { input, prober: 'tcp', target: hostPort(), settings: {} };
    case 'tls':
      rest(false);
      return { input, prober: 'tls', target: hostPort(443), settings: {} };
    case 'grpc':
    case 'grpcs':
      rest(false);
      return { input, prober: 'grpc', target: hostPort(scheme === 'grpcs' ? 443 : 80), settings: scheme === 'grpcs' ? { tls: true } : {} };
    case 'icmp':
      rest(false);
      if (url.port !== '') throw bad('an icmp:// target takes no port');
      return { input, prober: 'icmp', target: unbracket(url.hostname), settings: {} };
    default:
      return parseDns(url, input, bad);
  }
}

function parseDns(url: URL, input: string, bad: (why: string) => OpsError): ParsedTarget {
  if (url.hash !== '') throw bad('a dns:// target takes no #fragment');
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (name === '' || name.includes('/')) throw bad('expected dns://server[:port]/name[?type=MX], e.g. dns://127.0.0.1/example.test');
  const settings: Record<string, unknown> = { query_name: name };
  for (const [key, value] of url.searchParams) {
    if (key !== 'type') throw bad(`unknown parameter "${key}" (a dns:// target takes ?type=A|AAAA|MX|...)`);
    settings.query_type = value.toUpperCase();
  }
  return { input, prober: 'dns', target: url.port === '' ? url.hostname : `${url.hostname}:${url.port}`, settings };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
