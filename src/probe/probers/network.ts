// What the network probers (tcp, icmp, dns, grpc) share: "host:port" targets, name resolution by
// IP family with the resolve-phase metrics blackbox_exporter reports, short failure reasons, and
// regular expressions in their config.
import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import { z } from 'zod';
import { errnoCode } from '../../core/errors.ts';
import type { MetricSample, ProbeResult } from '../types.ts';

/**
 * Which address family to probe: "auto" takes the resolver's first address, "ip4"/"ip6" only that
 * family. (blackbox_exporter's preferred_ip_protocol + ip_protocol_fallback, made explicit.)
 */
export const ipProtocol = z.enum(['auto', 'ip4', 'ip6']).default('auto');
export type IpProtocol = z.output<typeof ipProtocol>;

/** A regular expression in config (JavaScript syntax, Unicode mode), compiled when the config is read. */
export const regex = z.string().transform((source, ctx): RegExp => {
  try {
    return new RegExp(source, 'u');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${err instanceof Error ? err.message : String(err)}` });
    return z.NEVER;
  }
});

/** A regular expression as the user wrote it, for messages: /^\+PONG/. */
export function show(re: RegExp): string {
  return `/${re.source}/`;
}

/** A target split into host and port; `[::1]:53` and `::1` both give host "::1". */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits "host:port" (IPv6 in brackets). Without a port, `defaultPort` is used, or it is an error.
 * @example splitHostPort('[::1]:8080') // { host: '::1', port: 8080 }
 */
export function splitHostPort(target: string, defaultPort?: number): HostPort | { error: string } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(target);
  const host = m?.[1] ?? m?.[2];
  if (host === undefined) {
    if (defaultPort !== undefined && isIP(target) === 6) return { host: target, port: defaultPort };
    return { error: `invalid target "${target}": expected host:port` };
  }
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (port === undefined) return { error: `invalid target "${target}": missing port` };
  if (port < 1 || port > 65535) return { error: `invalid target "${target}": port out of range` };
  return { host, port };
}

/** Where a host resolved to, and how long that took. */
export interface Resolved {
  address: string;
  family: 4 | 6;
  lookupMs: number;
}

/**
 * Resolves a host (an IP literal is used as is) to one address of the wanted family. Never throws:
 * a failure is `{ error }` with a short reason. Gives up when `signal` aborts.
 */
export async function resolveHost(host: string, protocol: IpProtocol, signal: AbortSignal): Promise<Resolved | { error: string; lookupMs: number }> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const want = protocol === 'ip4' ? 4 : protocol === 'ip6' ? 6 : 0;
  const literal = isIP(host);
  if (literal !== 0) {
    if (want !== 0 && literal !== want) return { error: `${host} is not an ${protocol} address`, lookupMs: 0 };
    return { address: host, family: literal as 4 | 6, lookupMs: 0 };
  }
  try {
    const found = await untilAborted(lookup(host, { family: want, all: true }), signal);
    const first = found[0];
    if (first === undefined) return { error: `resolve ${host}: no ${protocol === 'auto' ? '' : `${protocol} `}address`, lookupMs: elapsed() };
    return { address: first.address, family: first.family === 6 ? 6 : 4, lookupMs: elapsed() };
  } catch (err) {
    if (signal.aborted) return { error: abortedReason(signal, `resolving ${host}`), lookupMs: elapsed() };
    return { error: `resolve ${host}: ${netErrorReason(err)}`, lookupMs: elapsed() };
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: Error) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** Why an aborted wait stopped: "timed out waiting for X" at the probe timeout, else "cancelled". */
export function abortedReason(signal: AbortSignal, waitingFor: string): string {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
  return timedOut ? `timed out ${waitingFor}` : 'cancelled';
}

const errnoReasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary resolver failure',
  EPIPE: 'connection closed by peer',
};

/** A short reason for a socket or resolver error: "connection refused", or the error's message. */
export function netErrorReason(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined && Object.hasOwn(errnoReasons, code)) return errnoReasons[code] as string;
  return err instanceof Error ? err.message : String(err);
}

/** One gauge sample. */
export function gauge(name: string, help: string, value: number, labels?: Record<string, string>): MetricSample {
  return labels === undefined ? { name, help, type: 'gauge', value } : { name, help, type: 'gauge', labels, value };
}

/**
 * probe_ip_protocol and probe_dns_lookup_time_seconds, from `details.ip_protocol` (4 or 6) and
 * `phases.resolve` (ms), as blackbox_exporter reports them for every network prober.
 */
export function resolveMetrics(result: ProbeResult): MetricSample[] {
  const protocol = typeof result.details.ip_protocol === 'number' ? result.details.ip_protocol : 0;
  return [
    gauge('probe_ip_protocol', 'Specifies whether probe ip protocol is IP4 or IP6', protocol),
    gauge('probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds', (result.phases.resolve ?? 0) / 1000),
  ];
}

/**
 * Waits for `event` on a socket (a TCP connect or a TLS handshake): undefined when it came, else a
 * short reason: `reasonOf(error)`, "connection closed" or "aborted".
 */
export function waitForSocket(
  socket: Socket, event: 'connect' | 'secureConnect', signal: AbortSignal, reasonOf: (err: Error) => string = netErrorReason,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (reason: string | undefined): void => {
      socket.off(event, onEvent);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    const onEvent = (): void => done(undefined);
    const onError = (err: Error): void => done(reasonOf(err));
    const onClose = (): void => done('connection closed');
    const onAbort = (): void => done('aborted');
    if (signal.aborted) { resolve('aborted'); return; }
    socket.once(event, onEvent);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
