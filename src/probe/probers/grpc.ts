// The grpc prober: the standard health check, grpc.health.v1.Health/Check, over plaintext or TLS,
// as blackbox_exporter's grpc prober calls it.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { CallCredentials, ChannelCredentials, Client, Metadata, status as grpcStatus, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { z } from 'zod';
import { healthCheckMethod, servingStatuses, type HealthCheckResponse } from './grpc-health.ts';
import { abortedReason, gauge, ipProtocol, resolveHost, resolveMetrics, splitHostPort } from './network.ts';
import { tlsClientOptions, tlsConfig, tlsFacts, tlsMetrics, type TlsClientOptions } from './tls-settings.ts';
import type { MetricSample, ProbeOutcome, Prober } from '../types.ts';

const schema = z.strictObject({
  /** The service to ask about; "" is the server as a whole. */
  service: z.string().default(''),
  tls: z.boolean().default(false),
  tls_config: tlsConfig,
  ip_protocol: ipProtocol,
});

interface CallEnd {
  error: ServiceError | null;
  response: HealthCheckResponse | undefined;
}

/**
 * Target: "host:port" (port 443 with tls, else 80, when left out). Succeeds only on SERVING.
 * Details: `status` (SERVING, NOT_SERVING, UNKNOWN, or SERVICE_UNKNOWN when the server answers
 * NOT_FOUND for the service), `grpc_code` (0 = OK), `grpc_status` ("UNAVAILABLE"...), `tls`,
 * `tls_version` / `cert_expiry` (seconds left) with TLS, `address`, `ip_protocol`. Phases: resolve, check.
 */
export const grpc = {
  schema,
  async probe({ target, module, signal, timeoutMs, log }): Promise<ProbeOutcome> {
    const phases: Record<string, number> = {};
    const details: Record<string, unknown> = {};
    const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });
    const hp = splitHostPort(target, module.tls ? 443 : 80);
    if ('error' in hp) return fail(hp.error);
    const resolved = await resolveHost(hp.host, module.ip_protocol, signal);
    phases.resolve = resolved.lookupMs;
    if ('error' in resolved) return fail(resolved.error);
    Object.assign(details, { address: resolved.address, ip_protocol: resolved.family });

    // A subchannel of its own, so every probe dials afresh; no retries, no waiting for ready.
    const options: ChannelOptions = {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_retries': 0,
      'grpc.default_authority': hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`,
    };
    let credentials = ChannelCredentials.createInsecure();
    details.tls = false;
    if (module.tls) {
      const tls = await tlsClientOptions(module.tls_config, hp.host);
      if ('error' in tls) return fail(tls.error);
      credentials = new ProbeTlsCredentials(tls, (socket) => Object.assign(details, { tls: true }, tlsFacts(socket)));
    }
    const address = resolved.family === 6 ? `[${resolved.address}]:${hp.port}` : `${resolved.address}:${hp.port}`;
    log.debug('health check', { address, service: module.service, tls: module.tls });
    const started = performance.now();
    const client = new Client(address, credentials, options);
    let end: CallEnd;
    try {
      end = await check(client, module.service, timeoutMs, signal);
    } finally {
      client.close();
    }
    phases.check = performance.now() - started;

    const code = end.error?.code ?? grpcStatus.OK;
    Object.assign(details, { grpc_code: code, grpc_status: grpcStatus[code] ?? String(code) });
    if (end.response !== undefined) details.status = end.response.status;
    else if (code === grpcStatus.NOT_FOUND) details.status = 'SERVICE_UNKNOWN';
    log.debug('health check done', { code, status: details.status });

    if (signal.aborted) return fail(abortedReason(signal, `waiting for ${address} Health/Check`));
    if (end.error) {
      const what = code === grpcStatus.NOT_FOUND ? `service ${JSON.stringify(module.service)} unknown to the server` : end.error.details;
      return fail(`Health/Check: ${grpcStatus[code] ?? code}: ${what}`);
    }
    if (details.status !== 'SERVING') return fail(`serving status ${String(details.status)}`);
    return { success: true, phases, details };
  },
  metrics(result) {
    const d = result.details;
    const out: MetricSample[] = [...resolveMetrics(result)];
    for (const phase of ['resolve', 'check']) {
      out.push(gauge('probe_grpc_duration_seconds', 'Duration of gRPC request by phase', (result.phases[phase] ?? 0) / 1000, { phase }));
    }
    for (const s of servingStatuses) {
      out.push(gauge('probe_grpc_healthcheck_response', 'Response HealthCheck response', d.status === s ? 1 : 0, { serving_status: s }));
    }
    if (typeof d.grpc_code === 'number') out.push(gauge('probe_grpc_status_code', 'Response gRPC status code', d.grpc_code));
    if (typeof d.tls === 'boolean') out.push(gauge('probe_grpc_ssl', 'Indicates if SSL was used for the connection', d.tls ? 1 : 0));
    out.push(...tlsMetrics(result));
    return out;
  },
} satisfies Prober<typeof schema>;

/** One Health/Check call, cancelled when the signal aborts; never rejects. */
function check(client: Client, service: string, timeoutMs: number, signal: AbortSignal): Promise<CallEnd> {
  return new Promise((resolve) => {
    const m = healthCheckMethod;
    const call = client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, { service }, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      signal.removeEventListener('abort', cancel);
      resolve({ error, response });
    });
    const cancel = (): void => call.cancel();
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
  });
}

type SecureConnector = ReturnType<ChannelCredentials['_createSecureConnector']>;

/**
 * TLS for the channel done by node:tls with the same options as the tcp prober (no IP address as
 * SNI, the name verified as configured), handing each handshake's socket to `onSecure`: grpc-js
 * itself shows the peer certificate only once verified, so it would lose the expiry with
 * insecure_skip_verify. Implements grpc-js's ChannelCredentials._createSecureConnector (declared
 * in its typings; grpc.test.ts fails if it changes).
 */
class ProbeTlsCredentials extends ChannelCredentials {
  private readonly options: TlsClientOptions;
  private readonly onSecure: (socket: TLSSocket) => void;

  constructor(options: TlsClientOptions, onSecure: (socket: TLSSocket) => void) {
    super();
    this.options = options;
    this.onSecure = onSecure;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(): SecureConnector {
    return {
      connect: (socket) => new Promise((resolve, reject) => {
        const secured = tlsConnect({ ...this.options, socket, ALPNProtocols: ['h2'] }, () => {
          this.onSecure(secured);
          resolve({ socket: secured, secure: true });
        });
        secured.once('error', reject);
      }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => CallCredentials.createEmpty(),
      destroy: () => {},
    };
  }
}
