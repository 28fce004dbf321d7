// The tcp prober: connect to "host:port", optionally over TLS, then an optional query_response
// dialogue, as blackbox_exporter's tcp prober does.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { abortedReason, gauge, ipProtocol, resolveHost, resolveMetrics, splitHostPort, waitForSocket } from './network.ts';
import { queryResponseStep, runQueryResponse } from './query-response.ts';
import { tlsClientOptions, tlsConfig, tlsFacts, tlsMetrics, type TlsClientOptions } from './tls-settings.ts';
import type { ProbeOutcome, Prober } from '../types.ts';

const schema = z.strictObject({
  /** Handshake TLS right after connecting. */
  tls: z.boolean().default(false),
  tls_config: tlsConfig,
  /** Steps run in order once connected; see query-response.ts. */
  query_response: z.array(queryResponseStep).default([]),
  ip_protocol: ipProtocol,
});

/**
 * Details: `connected`, `address`, `ip_protocol` (4|6), `banner` (first line read, if any),
 * `tls_version` / `cert_expiry` (seconds left) when TLS. Phases: resolve, connect, tls.
 */
export const tcp = {
  schema,
  async probe({ target, module, signal, log }): Promise<ProbeOutcome> {
    const phases: Record<string, number> = {};
    const details: Record<string, unknown> = { connected: false };
    const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });
    const hp = splitHostPort(target);
    if ('error' in hp) return fail(hp.error);
    const resolved = await resolveHost(hp.host, module.ip_protocol, signal);
    phases.resolve = resolved.lookupMs;
    if ('error' in resolved) return fail(resolved.error);
    Object.assign(details, { address: resolved.address, ip_protocol: resolved.family });
    log.debug('resolved', { address: resolved.address });

    const tlsOptions = module.tls || module.query_response.some((s) => s.starttls) ? await tlsClientOptions(module.tls_config, hp.host) : undefined;
    if (tlsOptions !== undefined && 'error' in tlsOptions) return fail(tlsOptions.error);

    let started = performance.now();
    const plain = netConnect({ host: resolved.address, port: hp.port, family: resolved.family });
    plain.on('error', () => { /* reported by waitForSocket() or the line reader */ });
    const sockets: Socket[] = [plain];
    // Outermost first: destroying a socket under a live TLSSocket crashes Node 24 (SIGSEGV).
    const close = (): void => { for (const s of sockets.toReversed()) s.destroy(); };
    signal.addEventListener('abort', close, { once: true });
    try {
      const connected = await waitForSocket(plain, 'connect', signal);
      phases.connect = performance.now() - started;
      if (connected !== undefined) return fail(signal.aborted ? abortedReason(signal, `connecting to ${target}`) : `connect to ${target}: ${connected}`);
      details.connected = true;
      log.debug('connected', { address: resolved.address, port: hp.port });
      let socket: Socket = plain;
      if (module.tls && tlsOptions !== undefined) {
        started = performance.now();
        const secured = await handshake(plain, tlsOptions, sockets, signal, target);
        phases.tls = performance.now() - started;
        if ('error' in secured) return fail(secured.error);
        Object.assign(details, tlsFacts(secured));
        socket = secured;
      }
      const upgrade = async (s: Socket): Promise<TLSSocket | { error: string }> => {
        if (tlsOptions === undefined) return { error: 'starttls without TLS options' };
        const secured = await handshake(s, tlsOptions, sockets, signal, target);
        if (!('error' in secured)) Object.assign(details, tlsFacts(secured));
        return secured;
      };
      const dialogue = await runQueryResponse(socket, module.query_response, { signal, log, upgrade });
      if (dialogue.banner !== undefined) details.banner = dialogue.banner;
      details.failed_due_to_regex = dialogue.failedDueToRegex;
      if (dialogue.reason !== undefined) return fail(dialogue.reason);
      return { success: true, phases, details };
    } finally {
      signal.removeEventListener('abort', close);
      close();
    }
  },
  metrics(result) {
    return [
      ...resolveMetrics(result),
      gauge('probe_failed_due_to_regex', 'Indicates if probe failed due to regex', result.details.failed_due_to_regex === true ? 1 : 0),
      ...tlsMetrics(result),
    ];
  },
} satisfies Prober<typeof schema>;


/** A TLS handshake over an open socket; the TLS socket, or why it failed. */
async function handshake(socket: Socket, options: TlsClientOptions, sockets: Socket[], signal: AbortSignal, target: string): Promise<TLSSocket | { error: string }> {
  const secured = tlsConnect({ ...options, socket });
  sockets.push(secured);
  secured.on('error', () => { /* reported by waitForSocket(), or irrelevant once the probe is over */ });
  const failed = await waitForSocket(secured, 'secureConnect', signal);
  if (failed === undefined) return secured;
  secured.destroy();
  return { error: signal.aborted ? abortedReason(signal, `in the TLS handshake with ${target}`) : `TLS handshake with ${target}: ${failed}` };
}
