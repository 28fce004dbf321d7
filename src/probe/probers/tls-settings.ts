// TLS client settings for the probers that can speak TLS over their own connection (tcp, grpc):
// the `tls_config` table as blackbox_exporter spells it, and the facts read from a handshake.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { z } from 'zod';
import { gauge } from './network.ts';
import type { MetricSample, ProbeResult } from '../types.ts';

/** `tls_config = { insecure_skip_verify = false, ca_file = "...", server_name = "..." }`. */
export const tlsConfig = z.strictObject({
  /** Accept any certificate (still reports its expiry). */
  insecure_skip_verify: z.boolean().default(false),
  /** PEM file of the CAs to trust instead of the system ones; read at each probe, so rotation needs no reload. */
  ca_file: z.string().min(1).optional(),
  /** The name to send (SNI) and verify; default: the target's host. */
  server_name: z.string().min(1).optional(),
}).prefault({});
export type TlsConfig = z.output<typeof tlsConfig>;

/** What node:tls needs for a client handshake. */
export interface TlsClientOptions {
  /** The name the certificate is verified against. */
  host: string;
  /** SNI: the name, unless it is an IP address. */
  servername: string | undefined;
  rejectUnauthorized: boolean;
  ca: string | undefined;
}

/**
 * Builds node:tls client options; the CA file is read here (`{ error }` when it cannot be).
 * An IP-literal host sends no SNI (RFC 6066) but is still verified against the certificate.
 */
export async function tlsClientOptions(config: TlsConfig, host: string): Promise<TlsClientOptions | { error: string }> {
  let ca: string | undefined;
  if (config.ca_file !== undefined) {
    try {
      ca = await readFile(config.ca_file, 'utf8');
    } catch (err) {
      return { error: `read ca_file ${config.ca_file}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  const name = config.server_name ?? host;
  return { host: name, servername: isIP(name) === 0 ? name : undefined, rejectUnauthorized: !config.insecure_skip_verify, ca };
}

/**
 * Facts from a finished handshake, as details: `tls_version` ("TLS 1.3"), `cert_expiry` (seconds
 * left on the earliest-expiring certificate of the chain, negative once expired), `cert_expiry_timestamp`.
 */
export function tlsFacts(socket: TLSSocket): Record<string, unknown> {
  const facts: Record<string, unknown> = { tls_version: tlsVersionName(socket.getProtocol()) };
  const notAfter = earliestExpiry(socket.getPeerCertificate(true));
  if (notAfter !== undefined) {
    Object.assign(facts, { cert_expiry: Math.round((notAfter - Date.now()) / 1000), cert_expiry_timestamp: Math.floor(notAfter / 1000) });
  }
  return facts;
}

/** Node's "TLSv1.3" as blackbox_exporter's label value "TLS 1.3". */
export function tlsVersionName(protocol: string | null): string {
  if (protocol === null) return 'unknown';
  const m = /^TLSv(\d)(?:\.(\d))?$/.exec(protocol);
  return m ? `TLS ${m[1] ?? ''}.${m[2] ?? '0'}` : protocol;
}

/** The earliest notAfter (unix ms) over a peer certificate and the issuers chained to it. */
export function earliestExpiry(cert: PeerCertificate | Record<string, never>): number | undefined {
  let earliest: number | undefined;
  const seen = new Set<object>();
  let current: unknown = cert;
  while (isCert(current) && !seen.has(current)) {
    seen.add(current);
    const t = Date.parse(current.valid_to);
    if (Number.isFinite(t) && (earliest === undefined || t < earliest)) earliest = t;
    current = (current as { issuerCertificate?: unknown }).issuerCertificate;
  }
  return earliest;
}

function isCert(value: unknown): value is PeerCertificate {
  return typeof value === 'object' && value !== null && typeof (value as { valid_to?: unknown }).valid_to === 'string';
}

/** probe_ssl_earliest_cert_expiry and probe_tls_version_info, when the result has TLS facts. */
export function tlsMetrics(result: ProbeResult): MetricSample[] {
  const out: MetricSample[] = [];
  const expiry = result.details.cert_expiry_timestamp;
  if (typeof expiry === 'number') out.push(gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime', expiry));
  const version = result.details.tls_version;
  if (typeof version === 'string') out.push(gauge('probe_tls_version_info', 'Returns the TLS version used or NaN when unknown', 1, { version }));
  return out;
}
