// The tcp sink: newline-delimited entries over one persistent TCP (or TLS) connection, opened on
// the first write and again on the write after a failure; one connection carries data at a time.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { z } from 'zod';
import { duration } from '../../core/config.ts';
import { DeliveryError } from '../../core/retry.ts';
import { sinkKeys } from '../schema.ts';
import type { Definition, LogEntry } from '../types.ts';
import { tlsClientSettings, tlsKeys, type TlsClientSettings } from './tls-client.ts';
import { attemptError, attemptSignal, encodeLines, type MeasuredWriter, type OnBadEntry } from './writer.ts';

/** "host:port" or "[v6]:port", host required. */
const address = z.string().transform((text, ctx) => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `expected "host:port" (e.g. "logs.example.com:5140"), got "${text}"` });
    return z.NEVER;
  }
  return { host: m[1] ?? m[2] ?? '', port };
});

const schema = z.strictObject({
  type: z.literal('tcp'),
  ...sinkKeys,
  /** The receiver, "host:port". */
  address,
  /** json: one JSON object per line; text: the message only, one per line. */
  encoding: z.enum(['json', 'text']).default('json'),
  tls: z.strictObject({
    enabled: z.boolean().default(false),
    ...tlsKeys,
    /** Name sent (SNI) and verified; default: the address's host. */
    server_name: z.string().min(1).optional(),
  }).prefault({}),
  /** TCP keep-alive probes on the idle connection, so a vanished peer is noticed. */
  keepalive: z.boolean().default(true),
  /**
   * After a timed-out write, how long the ended connection may take to be read to its end before
   * it is abandoned and another opened (its lines may then arrive after later ones).
   */
  drain_timeout: duration().prefault('30s'),
});
export type TcpSinkConfig = z.output<typeof schema>;

export interface TcpWriterOptions {
  host: string;
  port: number;
  encoding: TcpSinkConfig['encoding'];
  /** TLS settings when TLS is on, with the name to verify. */
  tls: (TlsClientSettings & { serverName: string }) | undefined;
  keepalive: boolean;
  timeoutMs: number;
  /** Longest wait for a connection ended after a timeout to close, before it is abandoned. */
  drainTimeoutMs: number;
  onBad: OnBadEntry;
  log?: Logger | undefined;
}

/**
 * Writes each batch as lines on one connection. A write resolves once the whole batch was handed
 * to the kernel: TCP has no application acknowledgment, so at-least-once holds up to the receiving
 * kernel, and a batch written just before the peer goes away can be lost without an error. A
 * failure destroys the connection (retryable DeliveryError); the next write reconnects.
 *
 * A write that times out on a healthy connection (the receiver stopped reading) ends it instead:
 * every byte handed to it, the whole batch included, goes out before the FIN, and the connection
 * drains. The next write opens no connection until that one closed (the receiver read to its end),
 * so lines never arrive out of order and a new connection starts with a whole batch; the retried
 * batch may arrive twice. After `drainTimeoutMs` a draining connection is abandoned (destroyed).
 */
export class TcpWriter implements MeasuredWriter {
  lastBytes: number | undefined;
  #previous: Promise<unknown> = Promise.resolve();
  readonly #options: TcpWriterOptions;
  #socket: Socket | TLSSocket | undefined;
  /** The connection ended after a timeout, until it closes or is abandoned; `since`: ms since epoch. */
  #draining: { socket: Socket | TLSSocket; since: number } | undefined;

  constructor(options: TcpWriterOptions) {
    this.#options = options;
  }

  /** Whether a connection is open for writing (it may still turn out dead on the next write). */
  get connected(): boolean {
    return this.#socket !== undefined;
  }

  /** Whether a connection ended after a timeout is still waiting for the receiver to read it. */
  get draining(): boolean {
    return this.#draining !== undefined && !this.#draining.socket.closed;
  }

  /** Writes one batch; concurrent calls (a fallback shared by several sinks) run one after the other. */
  write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void> {
    const run = this.#previous.then(() => this.#write(entries, signal));
    this.#previous = run.catch(() => undefined);
    return run;
  }

  async #write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void> {
    if (entries.length === 0) return;
    const { encoding, timeoutMs, onBad } = this.#options;
    const body = Buffer.from(encodeLines(entries, encoding === 'json' ? 'ndjson' : 'text', onBad));
    const attempt = attemptSignal(signal, timeoutMs);
    let writing: Socket | undefined;
    try {
      await this.#drained(attempt);
      const socket = this.#socket ?? (await this.#connect(attempt));
      writing = socket;
      await untilDone(socket, attempt, (done) => socket.write(body, done));
      this.lastBytes = body.length;
    } catch (err) {
      if (attempt.aborted && writing !== undefined && this.#socket === writing && !writing.destroyed) this.#end(writing);
      else this.#drop();
      throw err instanceof DeliveryError ? err : attempt.aborted ? attemptError(attempt.reason) : attemptError(err);
    }
  }

  /**
   * Waits for the draining connection to close, within `signal`; once it drained longer than
   * drainTimeoutMs, destroys it instead. Rejects when `signal` fires first.
   */
  async #drained(signal: AbortSignal): Promise<void> {
    const draining = this.#draining;
    if (draining === undefined) return;
    const { socket, since } = draining;
    const outcome = socket.closed ? 'closed' : await new Promise<'closed' | 'expired' | 'aborted'>((resolve) => {
      const finish = (how: 'closed' | 'expired' | 'aborted'): void => {
        clearTimeout(timer);
        socket.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        resolve(how);
      };
      const onClose = (): void => { finish('closed'); };
      const onAbort = (): void => { finish('aborted'); };
      const timer = setTimeout(() => { finish('expired'); }, Math.max(0, since + this.#options.drainTimeoutMs - Date.now()));
      socket.once('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
    if (outcome === 'aborted') {
      throw new DeliveryError('receiver is not reading: previous connection still draining', { retryable: true, details: { error: 'draining' } });
    }
    if (outcome === 'expired') {
      const { host, port } = this.#options;
      this.#options.log?.warn({ address: `${host}:${port}`, drain_timeout_ms: this.#options.drainTimeoutMs, unsent_bytes: socket.writableLength },
        'abandoned a connection the receiver did not read: its lines may arrive after later ones');
      socket.destroy();
    }
    this.#draining = undefined;
  }

  /** Ends the connections (the open one and a draining one) after what was written, waiting a little for the peer. */
  async close(): Promise<void> {
    await this.#previous;
    const sockets = [this.#socket, this.#draining?.socket];
    this.#socket = undefined;
    this.#draining = undefined;
    await Promise.all(sockets.map(async (socket) => {
      if (socket === undefined || socket.closed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { socket.destroy(); }, 2000);
        socket.once('close', () => { clearTimeout(timer); resolve(); });
        socket.end();
      });
    }));
  }

  async #connect(signal: AbortSignal): Promise<Socket | TLSSocket> {
    const { host, port, tls, keepalive } = this.#options;
    const socket = tls === undefined
      ? netConnect({ host, port })
      : tlsConnect({
        host, port, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized,
        servername: isIP(tls.serverName) === 0 ? tls.serverName : undefined,
      });
    socket.setNoDelay(true);
    socket.setKeepAlive(keepalive, 30_000);
    // The socket is ours from here: a failure or a close by the peer forgets it (the TLS socket itself is destroyed, never the raw one below it).
    this.#socket = socket;
    socket.on('error', () => { this.#forget(socket); });
    socket.on('close', () => { this.#forget(socket); });
    socket.on('end', () => { this.#forget(socket); socket.destroy(); });
    // Receivers may talk back; nothing here listens, so read and discard to see the peer's FIN.
    socket.on('data', () => undefined);
    const ready = tls === undefined ? 'connect' : 'secureConnect';
    await untilDone(socket, signal, (done) => { socket.once(ready, () => { done(); }); });
    if (this.#socket !== socket) throw new DeliveryError('connection closed', { retryable: true, details: { error: 'closed' } });
    this.#options.log?.debug({ address: `${host}:${port}`, tls: tls !== undefined }, 'connected');
    return socket;
  }

  #forget(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
  }

  /** Ends a connection the receiver stopped reading: what was handed to it still goes out, then the FIN. */
  #end(socket: Socket): void {
    this.#socket = undefined;
    this.#draining = { socket, since: Date.now() };
    socket.end();
  }

  #drop(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
  }
}

/** Runs `start` and waits for its `done`, or the socket's error or close, or the signal. */
function untilDone(socket: Socket, signal: AbortSignal, start: (done: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onAbort = (): void => { cleanup(); reject(signal.reason as Error); };
    const onError = (err: Error): void => { cleanup(); reject(err); };
    const onClose = (): void => { cleanup(); reject(new DeliveryError('connection closed', { retryable: true, details: { error: 'closed' } })); };
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('close', onClose);
    start((err) => { cleanup(); if (err) reject(err); else resolve(); });
  });
}

/** `[sinks.collector] type = "tcp"`: see the schema for keys and defaults. */
export const tcp = {
  schema,
  create(config, ctx): MeasuredWriter {
    const { host, port } = config.address;
    const tls = config.tls.enabled
      ? { ...tlsClientSettings(config.tls, ctx.configDir, 'tls.ca_file'), serverName: config.tls.server_name ?? host }
      : undefined;
    return new TcpWriter({
      host, port, encoding: config.encoding, tls, keepalive: config.keepalive, timeoutMs: config.request_timeout, drainTimeoutMs: config.drain_timeout,
      onBad: () => { ctx.counters.error('encode'); }, log: ctx.log,
    });
  },
} satisfies Definition<typeof schema, MeasuredWriter>;
