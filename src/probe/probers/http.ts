// The http prober: one request over a fresh connection per hop, redirects followed, phases timed
// as blackbox_exporter's httptrace does, then status, header, body and TLS checks.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { z } from 'zod';
import { size } from '../../core/config.ts';
import { versionInfo } from '../../core/version.ts';
import { readBody, headerFacts, headerFailure, ipAddrHash, isJsonType, statusFailure } from './http-response.ts';
import { abortedReason, gauge, ipProtocol, netErrorReason, regex, resolveMetrics, show } from './network.ts';
import { dial, tlsDialOptions, type Connection, type TlsDialOptions } from './tls.ts';
import { chainMetrics } from './tls-facts.ts';
import { tlsConfig } from './tls-settings.ts';
import type { MetricSample, ProbeContext, ProbeOutcome, Prober } from '../types.ts';

const headerMatch = z.strictObject({
  header: z.string().min(1),
  regexp: regex,
  /** A missing header passes instead of failing. */
  allow_missing: z.boolean().default(false),
});

const schema = z.strictObject({
  method: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP method such as "GET"').default('GET'),
  /** Request headers; a `Host` header also sets the TLS server name. */
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  basic_auth: z.strictObject({ username: z.string(), password: z.string().default('') }).optional(),
  bearer_token: z.string().min(1).optional(),
  follow_redirects: z.boolean().default(true),
  max_redirects: z.number().int().nonnegative().default(10),
  /** Accepted statuses; empty means any 2xx. */
  valid_status_codes: z.array(z.number().int().min(100).max(599)).default([]),
  /** Accepted versions as "HTTP/1.1"; empty means any. */
  valid_http_versions: z.array(z.string().regex(/^HTTP\/\d(\.\d)?$/, 'expected a version such as "HTTP/1.1"')).default([]),
  tls_config: tlsConfig,
  /** Bodies larger than this (after decompression) fail the probe, and reading stops there. */
  max_body_size: size().prefault('10MiB'),
  fail_if_body_matches: z.array(regex).default([]),
  fail_if_body_not_matches: z.array(regex).default([]),
  fail_if_header_matches: z.array(headerMatch).default([]),
  fail_if_header_not_matches: z.array(headerMatch).default([]),
  fail_if_ssl: z.boolean().default(false),
  fail_if_not_ssl: z.boolean().default(false),
  /** Parse the body as JSON into `details.body`; default: when the content type is JSON. */
  body_json: z.boolean().optional(),
  ip_protocol: ipProtocol,
});
type Settings = z.output<typeof schema>;

const phaseNames = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** One request on its own connection, up to the response headers. */
interface Hop {
  connection: Connection;
  response: IncomingMessage;
  /** When the first response byte came, for the transfer phase. */
  firstByte: number;
  details: Record<string, unknown>;
}

interface HopRequest {
  url: URL;
  method: string;
  body: string | undefined;
  /** The probe's first URL: the Host header override and server_name apply to its host only, credentials to it and its subdomains. */
  first: URL;
}

/**
 * Details (of the final hop): `status`, `http_version` ("1.1"), `headers` (lower-case names with
 * "-" as "_", so conditions can read `headers.content_type`), `content_length` (-1 when unknown),
 * `body_size` (bytes after decompression), `body` (parsed JSON), `redirects`, `ssl`, `final_url`,
 * `address`, `ip_protocol`, `failed_due_to_regex`, `last_modified` (unix seconds), and over https
 * the chain facts of tls-facts.ts (`cert_expiry` seconds left, `tls_version`...).
 * Phases (ms) are summed over redirects, as blackbox_exporter does.
 */
export const http = {
  schema,
  async probe({ target, module: m, signal, log }): Promise<ProbeOutcome> {
    const phases: Record<string, number> = Object.fromEntries(phaseNames.map((p) => [p, 0]));
    let details: Record<string, unknown> = { redirects: 0, ssl: false, failed_due_to_regex: false };
    const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });
    const first = parseTarget(target);
    if ('error' in first) return fail(first.error);
    if (m.basic_auth !== undefined && m.bearer_token !== undefined) return fail('basic_auth and bearer_token cannot both be set');
    const req: HopRequest = { url: first, method: m.method, body: m.body, first };
    let redirects = 0;
    for (;;) {
      const hop = await exchange(req, m, { signal, log });
      for (const [name, ms] of Object.entries(hop.phases)) phases[name] = (phases[name] ?? 0) + ms;
      details = { ...hop.details, redirects, failed_due_to_regex: false };
      if ('error' in hop) return fail(hop.error);
      const { response } = hop;
      Object.assign(details, headerFacts(response));
      const location = response.headers.location;
      if (!m.follow_redirects || !redirectStatuses.has(response.statusCode ?? 0) || location === undefined) {
        try {
          return await finish({ ...hop, details }, m, phases, signal);
        } finally {
          hop.connection.close();
        }
      }
      hop.connection.close();
      log.debug('redirect', { status: response.statusCode, location });
      if (redirects >= m.max_redirects) return fail(`more than ${m.max_redirects} redirects`);
      const next = URL.parse(location, req.url.href);
      if (next === null || (next.protocol !== 'http:' && next.protocol !== 'https:')) return fail(`redirect to unsupported URL "${location}"`);
      redirects++;
      // As Go's client: 301/302/303 continue as a GET (HEAD stays HEAD) without the body; 307/308 repeat the request.
      if (response.statusCode !== 307 && response.statusCode !== 308) {
        req.method = req.method === 'HEAD' ? 'HEAD' : 'GET';
        req.body = undefined;
      }
      req.url = next;
    }
  },
  metrics(result) {
    const d = result.details;
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    const out: MetricSample[] = [
      ...resolveMetrics(result),
      gauge('probe_http_status_code', 'Response HTTP status code', num(d.status)),
      gauge('probe_http_content_length', 'Length of http content response', num(d.content_length)),
      gauge('probe_http_uncompressed_body_length', 'Length of uncompressed response body', num(d.body_size)),
      gauge('probe_http_redirects', 'The number of redirects', num(d.redirects)),
      gauge('probe_http_ssl', 'Indicates if SSL was used for the final redirect', d.ssl === true ? 1 : 0),
      gauge('probe_http_version', 'Returns the version of HTTP of the probe response', Number(d.http_version ?? 0) || 0),
      gauge('probe_failed_due_to_regex', 'Indicates if probe failed due to regex', d.failed_due_to_regex === true ? 1 : 0),
      ...phaseNames.map((phase) => gauge('probe_http_duration_seconds', 'Duration of http request by phase, summed over all redirects', (result.phases[phase] ?? 0) / 1000, { phase })),
    ];
    if (typeof d.address === 'string') out.push(gauge('probe_ip_addr_hash', "Specifies the hash of IP address. It's useful to detect if the IP address changes.", ipAddrHash(d.address)));
    if (typeof d.last_modified === 'number') out.push(gauge('probe_http_last_modified_timestamp_seconds', 'Returns the Last-Modified HTTP response header in unixtime', d.last_modified));
    if (d.ssl === true) out.push(...chainMetrics(result));
    return out;
  },
} satisfies Prober<typeof schema>;

/** The final response: read the body, then the checks in blackbox's order. */
async function finish(hop: Hop, m: Settings, phases: Record<string, number>, signal: AbortSignal): Promise<ProbeOutcome> {
  const { response, details } = hop;
  const contentType = response.headers['content-type'] ?? '';
  const json = m.body_json ?? isJsonType(contentType);
  const keep = json || m.fail_if_body_matches.length > 0 || m.fail_if_body_not_matches.length > 0;
  const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });

  let reason = statusFailure(response.statusCode ?? 0, m.valid_status_codes);
  if (reason === undefined) {
    reason = headerFailure(response, m.fail_if_header_matches, m.fail_if_header_not_matches);
    if (reason !== undefined) details.failed_due_to_regex = true;
  }
  const body = await readBody(response, { limit: m.max_body_size, keep, signal });
  phases.transfer = (phases.transfer ?? 0) + (performance.now() - hop.firstByte);
  details.body_size = body.size;
  if (reason !== undefined) return fail(reason);
  if ('error' in body) return fail(body.error);

  const text = body.text ?? '';
  const matched = m.fail_if_body_matches.find((re) => re.test(text));
  if (matched !== undefined) { details.failed_due_to_regex = true; return fail(`body matched ${show(matched)}`); }
  const missed = m.fail_if_body_not_matches.find((re) => !re.test(text));
  if (missed !== undefined) { details.failed_due_to_regex = true; return fail(`body did not match ${show(missed)}`); }
  if (json) {
    try {
      details.body = JSON.parse(text) as unknown;
    } catch (err) {
      if (m.body_json === true) return fail(`body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const version = `HTTP/${response.httpVersion}`;
  if (m.valid_http_versions.length > 0 && !m.valid_http_versions.includes(version)) return fail(`${version} not in [${m.valid_http_versions.join(', ')}]`);
  if (m.fail_if_ssl && details.ssl === true) return fail('final request was over TLS (fail_if_ssl)');
  if (m.fail_if_not_ssl && details.ssl !== true) return fail('final request was not over TLS (fail_if_not_ssl)');
  return { success: true, phases, details };
}

/** Dials the URL's host and sends the request; the response, or why there is none. */
async function exchange(req: HopRequest, m: Settings, ctx: Pick<ProbeContext, 'signal' | 'log'>): Promise<(Hop | { error: string; details: Record<string, unknown> }) & { phases: Record<string, number> }> {
  const { url } = req;
  const { signal, log } = ctx;
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const firstHost = url.host === req.first.host;
  const hostOverride = firstHost ? Object.entries(m.headers).find(([k]) => k.toLowerCase() === 'host')?.[1] : undefined;
  const base = { ssl: secure, final_url: withoutCredentials(url) };
  let tls: TlsDialOptions | undefined;
  if (secure) {
    const serverName = firstHost ? (m.tls_config.server_name ?? hostOverride?.replace(/:\d+$/, '')) : undefined;
    const options = await tlsDialOptions({ ...m.tls_config, server_name: serverName }, host);
    if ('error' in options) return { error: options.error, phases: {}, details: base };
    tls = options;
  }
  log.debug('request', { method: req.method, url: base.final_url });
  const dialed = await dial({ host, port, ipProtocol: m.ip_protocol, tls, signal, log });
  const details = { ...base, ...dialed.details };
  if ('error' in dialed) return { error: dialed.error, phases: dialed.phases, details };
  const { connection } = dialed;
  const gotConn = performance.now();
  let firstByte: number | undefined;
  const markFirstByte = (): void => { firstByte ??= performance.now(); };
  const request = httpRequest({
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers: requestHeaders(req, m, hostOverride),
    setHost: false,
    createConnection: () => connection.socket,
  });
  request.on('error', () => { /* reported below, or irrelevant once the response came */ });
  request.once('socket', (s) => { s.once('data', markFirstByte); });
  request.end(req.body);
  const response = await new Promise<IncomingMessage | string>((resolve) => {
    const onAbort = (): void => resolve(abortedReason(signal, `waiting for the response from ${url.host}`));
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('response', (res: IncomingMessage) => { signal.removeEventListener('abort', onAbort); resolve(res); });
    request.once('error', (err) => { signal.removeEventListener('abort', onAbort); resolve(signal.aborted ? abortedReason(signal, `waiting for the response from ${url.host}`) : netErrorReason(err)); });
  });
  markFirstByte();
  const phases = { ...dialed.phases, processing: (firstByte ?? performance.now()) - gotConn };
  if (typeof response === 'string') {
    connection.close();
    return { error: response === 'socket hang up' ? `connection closed by ${url.host} before a response` : response, phases, details };
  }
  log.debug('response', { status: response.statusCode, version: response.httpVersion });
  return { connection, response, firstByte: firstByte ?? gotConn, details, phases };
}

function requestHeaders(req: HopRequest, m: Settings, hostOverride: string | undefined): Record<string, string> {
  const { url, first } = req;
  // Credentials go to the first host and its subdomains only, as Go's client forwards them.
  const trusted = url.hostname === first.hostname || url.hostname.endsWith(`.${first.hostname}`);
  const headers: Record<string, string> = { Host: hostOverride ?? url.host };
  for (const [name, value] of Object.entries(m.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || (!trusted && (lower === 'authorization' || lower === 'cookie'))) continue;
    headers[name] = value;
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent')) headers['User-Agent'] = `opsctl/${versionInfo().version}`;
  if (trusted && m.bearer_token !== undefined) headers.Authorization = `Bearer ${m.bearer_token}`;
  const basic = m.basic_auth ?? (first.username === '' ? undefined : { username: decodeURIComponent(first.username), password: decodeURIComponent(first.password) });
  if (trusted && basic !== undefined) headers.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
  return headers;
}

function withoutCredentials(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** A URL; a target without a scheme is taken as http://, as blackbox does. */
function parseTarget(target: string): URL | { error: string } {
  const url = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`);
  if (url === null) return { error: `invalid target "${target}": not a URL` };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `invalid target "${target}": expected an http or https URL` };
  return url;
}
