// Certificate chain facts from a finished TLS handshake, shared by the http and tls probers:
// expiries, the leaf's identity, the verification result, and the metrics blackbox_exporter reports.
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { gauge } from './network.ts';
import { tlsVersionName } from './tls-settings.ts';
import type { MetricSample, ProbeResult } from '../types.ts';

/**
 * The chain as Node presents it, leaf first: the certificates the server sent plus, once
 * verified, the trust anchor that completed it.
 */
export function peerChain(socket: TLSSocket): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  const seen = new Set<string>();
  let current: unknown = socket.getPeerCertificate(true);
  while (isCert(current) && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(current);
    current = (current as { issuerCertificate?: unknown }).issuerCertificate;
  }
  return chain;
}

/**
 * Details from a handshake, verified against `host`:
 * - `tls_version` ("TLS 1.3", as blackbox labels it), `cipher` (IANA name), `chain_length`;
 * - `cert_expiry` (seconds left on the earliest-expiring certificate, negative once expired) and
 *   `cert_expiry_timestamp` (unix seconds);
 * - `last_chain_expiry` / `last_chain_expiry_timestamp`: the same over the verified chain, only
 *   when it verified (blackbox reports it from verified chains only);
 * - the leaf's `subject`, `issuer` (RFC 2253 order, as Go prints them), `sans` (DNS names and
 *   IPs), `fingerprint_sha256` (lower-case hex), `serial`;
 * - `authorized` (chain and name both verified), `hostname_ok`, and `verify_error` (an OpenSSL or
 *   Node code) when not authorized.
 */
export function chainFacts(socket: TLSSocket, host: string): Record<string, unknown> {
  const chain = peerChain(socket);
  const facts: Record<string, unknown> = {
    tls_version: tlsVersionName(socket.getProtocol()),
    cipher: socket.getCipher().standardName,
    chain_length: chain.length,
    authorized: socket.authorized,
  };
  if (!socket.authorized) facts.verify_error = errorCode(socket.authorizationError);
  const leaf = chain[0];
  if (leaf === undefined) return { ...facts, hostname_ok: false };
  const earliest = earliestNotAfter(chain);
  if (earliest !== undefined) Object.assign(facts, expiryFacts('cert_expiry', earliest));
  if (socket.authorized && earliest !== undefined) Object.assign(facts, expiryFacts('last_chain_expiry', earliest));
  return {
    ...facts,
    subject: distinguishedName(leaf.subject),
    issuer: distinguishedName(leaf.issuer),
    sans: subjectAltNames(leaf.subjectaltname),
    fingerprint_sha256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
    serial: leaf.serialNumber.toLowerCase(),
    hostname_ok: checkServerIdentity(host, leaf) === undefined,
  };
}

/** Why verification failed, in words: "certificate has expired", "certificate is not valid for example.com". */
export function verifyReason(code: string, host: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED': return 'certificate has expired';
    case 'CERT_NOT_YET_VALID': return 'certificate is not yet valid';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': return 'self-signed certificate';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': return 'certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return `certificate is not valid for ${host}`;
    case 'CERT_REVOKED': return 'certificate has been revoked';
    default: return `certificate verification failed (${code})`;
  }
}

/**
 * probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_expiry_timestamp_seconds,
 * probe_tls_version_info, probe_tls_cipher_info and probe_ssl_last_chain_info, from the details
 * `chainFacts` wrote (none when there was no handshake).
 */
export function chainMetrics(result: ProbeResult): MetricSample[] {
  const d = result.details;
  const out: MetricSample[] = [];
  if (typeof d.cert_expiry_timestamp === 'number') out.push(gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime', d.cert_expiry_timestamp));
  if (typeof d.last_chain_expiry_timestamp === 'number') {
    out.push(gauge('probe_ssl_last_chain_expiry_timestamp_seconds', 'Returns last SSL chain expiry in timestamp', d.last_chain_expiry_timestamp));
  }
  if (typeof d.tls_version === 'string') out.push(gauge('probe_tls_version_info', 'Returns the TLS version used or NaN when unknown', 1, { version: d.tls_version }));
  if (typeof d.cipher === 'string') out.push(gauge('probe_tls_cipher_info', 'Returns the TLS cipher negotiated during handshake', 1, { cipher: d.cipher }));
  if (typeof d.fingerprint_sha256 === 'string') {
    const dnsNames = Array.isArray(d.sans) ? (d.sans as unknown[]).filter(isDnsName) : [];
    out.push(gauge('probe_ssl_last_chain_info', 'Contains SSL leaf certificate information', 1, {
      fingerprint_sha256: d.fingerprint_sha256,
      subject: typeof d.subject === 'string' ? d.subject : '',
      issuer: typeof d.issuer === 'string' ? d.issuer : '',
      subjectalternative: dnsNames.join(','),
    }));
  }
  return out;
}

function expiryFacts(name: string, notAfterMs: number): Record<string, number> {
  return { [name]: Math.round((notAfterMs - Date.now()) / 1000), [`${name}_timestamp`]: Math.floor(notAfterMs / 1000) };
}

function earliestNotAfter(chain: readonly PeerCertificate[]): number | undefined {
  let earliest: number | undefined;
  for (const cert of chain) {
    const t = Date.parse(cert.valid_to);
    if (Number.isFinite(t) && (earliest === undefined || t < earliest)) earliest = t;
  }
  return earliest;
}

const rdnOrder = ['SERIALNUMBER', 'CN', 'OU', 'O', 'postalCode', 'street', 'L', 'ST', 'C'];

/** A subject or issuer as Go's pkix.Name.String() prints it: "CN=example.com,O=Example,C=US". */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (name === undefined) return '';
  const entries = Object.entries(name as unknown as Record<string, string | string[] | undefined>);
  const rank = (key: string): number => { const i = rdnOrder.indexOf(key); return i === -1 ? rdnOrder.length : i; };
  entries.sort(([a], [b]) => rank(a) - rank(b));
  return entries.flatMap(([key, value]) => [value ?? []].flat().map((v) => `${key}=${v.replace(/([,+"\\<>;])/g, '\\$1')}`)).join(',');
}

/** "DNS:a.example, IP Address:127.0.0.1" as ["a.example", "127.0.0.1"]. */
function subjectAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.split(/,\s*/).map((entry) => entry.replace(/^(DNS|IP Address|URI|email):/, ''));
}

function isDnsName(value: unknown): value is string {
  return typeof value === 'string' && !/^[\d.]+$/.test(value) && !/[:@]/.test(value);
}

function isCert(value: unknown): value is PeerCertificate {
  return typeof value === 'object' && value !== null && typeof (value as { fingerprint256?: unknown }).fingerprint256 === 'string';
}

function errorCode(err: unknown): string {
  if (err instanceof Error) return (err as { code?: unknown }).code === undefined ? err.message : String((err as { code?: unknown }).code);
  return String(err);
}
