// The tls prober: a TLS handshake with "host:port" and the certificate facts it yields (expiry,
// identity, verification); also the timed resolve/connect/handshake the http prober dials with.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { z } from 'zod';
import { abortedReason, ipProtocol, netErrorReason, resolveHost, resolveMetrics, splitHostPort, waitForSocket, type IpProtocol } from './network.ts';
import { chainFacts, chainMetrics, verifyReason } from './tls-facts.ts';
import { tlsClientOptions } from './tls-settings.ts';
import type { ProbeLog, ProbeOutcome, Prober } from '../types.ts';

const versions = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const satisfies Record<string, SecureVersion>;

const schema = z.strictObject({
  /** The name to send (SNI) and verify the certificate against; default: the target's host. */
  server_name: z.string().min(1).optional(),
  /** Accept any certificate; its facts are still reported. */
  insecure_skip_verify: z.boolean().default(false),
  /** PEM file of the CAs to trust instead of the system ones; read at each probe. */
  ca_file: z.string().min(1).optional(),
  /** The oldest protocol version to offer, as blackbox spells it ("TLS12"). */
  min_version: z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']).optional(),
  ip_protocol: ipProtocol,
});

/** How to handshake: the name verified (and sent as SNI unless an IP), the CAs, and whether to verify. */
export interface TlsDialOptions {
  host: string;
  servername: string | undefined;
  ca: string | undefined;
  /** Report verification failures as facts instead of failing. */
  insecure: boolean;
  minVersion?: SecureVersion | undefined;
}

export interface DialOptions {
  host: string;
  port: number;
  ipProtocol: IpProtocol;
  /** Handshake TLS over the connection with these options; plain TCP when absent. */
  tls?: TlsDialOptions | undefined;
  signal: AbortSignal;
  log: ProbeLog;
}

/** An open connection; `close()` ends it (and is safe to call more than once). */
export interface Connection {
  socket: Socket;
  close(): void;
}

/** Phase timings (ms) and facts (address, ip_protocol, chain facts) gathered while dialing. */
export interface DialFacts {
  phases: { resolve: number; connect: number; tls?: number };
  details: Record<string, unknown>;
}

/**
 * Resolves, connects and (when asked) handshakes TLS, timing each step. Never throws: a failure is
 * `{ error }` with whatever facts were gathered, so an untrusted certificate still reports its
 * expiry. A certificate that does not verify fails the dial unless `tls.insecure`, and the
 * connection is closed before anything is written to it. Stops when `signal` aborts.
 */
export async function dial(options: DialOptions): Promise<DialFacts & ({ connection: Connection } | { error: string })> {
  const { host, port, signal, log } = options;
  const facts: DialFacts = { phases: { resolve: 0, connect: 0 }, details: {} };
  const resolved = await resolveHost(host, options.ipProtocol, signal);
  facts.phases.resolve = resolved.lookupMs;
  if ('error' in resolved) return { ...facts, error: resolved.error };
  Object.assign(facts.details, { address: resolved.address, ip_protocol: resolved.family });
  const where = `${resolved.family === 6 ? `[${resolved.address}]` : resolved.address}:${port}`;
  log.debug('resolved', { host, address: resolved.address });

  const sockets: Socket[] = [];
  // Outermost first: destroying a socket under a live TLSSocket crashes Node 24.
  const close = (): void => { signal.removeEventListener('abort', close); for (const s of sockets.toReversed()) s.destroy(); };
  const failed = (error: string): DialFacts & { error: string } => { close(); return { ...facts, error }; };
  if (signal.aborted) return failed(abortedReason(signal, `connecting to ${where}`));
  signal.addEventListener('abort', close, { once: true });

  let started = performance.now();
  const plain = netConnect({ host: resolved.address, port, family: resolved.family });
  sockets.push(plain);
  plain.on('error', () => { /* reported by waitForSocket(), or irrelevant once closed */ });
  const connectError = await waitForSocket(plain, 'connect', signal);
  facts.phases.connect = performance.now() - started;
  if (signal.aborted) return failed(abortedReason(signal, `connecting to ${where}`));
  if (connectError !== undefined) return failed(`${connectError} (${where})`);
  log.debug('connected', { address: where });
  if (options.tls === undefined) return { ...facts, connection: { socket: plain, close } };

  const t = options.tls;
  started = performance.now();
  const secured = tlsConnect({ socket: plain, host: t.host, servername: t.servername, ca: t.ca, rejectUnauthorized: false, minVersion: t.minVersion });
  sockets.push(secured);
  secured.on('error', () => { /* as above */ });
  const handshakeError = await waitForSocket(secured, 'secureConnect', signal, tlsErrorReason);
  facts.phases.tls = performance.now() - started;
  if (signal.aborted) return failed(abortedReason(signal, `in the TLS handshake with ${where}`));
  if (handshakeError !== undefined) return failed(`TLS handshake with ${where}: ${handshakeError}`);
  Object.assign(facts.details, chainFacts(secured, t.host));
  log.debug('tls handshake done', { version: facts.details.tls_version, authorized: secured.authorized });
  if (!secured.authorized && !t.insecure) return failed(verifyReason(String(facts.details.verify_error), t.host));
  return { ...facts, connection: { socket: secured, close } };
}

/** node:tls options from the prober settings (the CA file read now); `{ error }` when it cannot be read. */
export async function tlsDialOptions(
  settings: { insecure_skip_verify: boolean; ca_file?: string | undefined; server_name?: string | undefined },
  host: string,
): Promise<TlsDialOptions | { error: string }> {
  const o = await tlsClientOptions(settings, host);
  if ('error' in o) return o;
  return { host: o.host, servername: o.servername, ca: o.ca, insecure: settings.insecure_skip_verify };
}

/**
 * Details: `address`, `ip_protocol` and the chain facts (see tls-facts.ts): `cert_expiry` (seconds
 * left), `last_chain_expiry`, `subject`, `issuer`, `sans`, `hostname_ok`, `authorized`,
 * `tls_version` ("TLS 1.3"), `cipher`, `chain_length`. Phases: resolve, connect, tls.
 */
export const tls = {
  schema,
  async probe({ target, module, signal, log }): Promise<ProbeOutcome> {
    const hp = splitHostPort(target, 443);
    if ('error' in hp) return { success: false, reason: hp.error, phases: {}, details: {} };
    const options = await tlsDialOptions(module, hp.host);
    if ('error' in options) return { success: false, reason: options.error, phases: {}, details: {} };
    options.minVersion = module.min_version === undefined ? undefined : versions[module.min_version];
    const dialed = await dial({ host: hp.host, port: hp.port, ipProtocol: module.ip_protocol, tls: options, signal, log });
    const { phases, details } = dialed;
    if ('error' in dialed) return { success: false, reason: dialed.error, phases, details };
    dialed.connection.close();
    return { success: true, phases, details };
  },
  metrics: (result) => [...resolveMetrics(result), ...chainMetrics(result)],
} satisfies Prober<typeof schema>;


/** A TLS error's own reason (hostname mismatch details) before the generic network wording. */
function tlsErrorReason(err: Error): string {
  return (err as { reason?: string }).reason ?? netErrorReason(err);
}
