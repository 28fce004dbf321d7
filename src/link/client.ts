// The agent side of the link: one outbound WebSocket to the server with a bearer token (read again
// before each attempt), hello, heartbeats, each pushed config applied in order and acked, and
// reconnects with exponential backoff and full jitter so a restarted server is not stampeded. Given
// several server URLs (replicas), it starts at a random one and moves to the next after a failed
// attempt or a lost link; the backoff step grows once per full round of the URLs.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import WebSocket from 'ws';
import { versionInfo } from '../core/version.ts';
import type { ConfigApplier, PushedDoc } from './apply.ts';
import { closeCodes, closeReason, defaultMaxMessageBytes, linkPath, parseMessage, serverMessageSchema, type AgentMessage, type ServerMessage } from './protocol.ts';
import type { ConfigKind, NodeFacts } from './records.ts';

export interface BackoffOptions {
  /** The first step (default 1 s). */
  baseMs?: number;
  /** The largest step (default 60 s). */
  capMs?: number;
  /** A link that lasted this long resets the steps (default 30 s); shorter ones keep growing them. */
  resetAfterMs?: number;
  /** [0, 1) (tests make it fixed). */
  random?: () => number;
  /** Milliseconds (tests drive it). */
  now?: () => number;
}

/** The backoff and, with several server URLs, how many attempts share one step (one per URL). */
export interface BackoffSettings extends BackoffOptions {
  /** Attempts per step (default 1): with N replicas the step doubles after each round of N attempts. */
  perStep?: number;
}

/**
 * Reconnect delays: exponential steps (base, 2 base, 4 base... up to cap) with full jitter (a random
 * wait between 0 and the step), from the first reconnect on: agents dropped together come back spread.
 * With `perStep: n` (n server replicas) every n attempts share a step: a round over the replicas
 * waits (jittered) before each attempt, and the step doubles once per round.
 * @example const b = new ReconnectBackoff(); setTimeout(connect, b.next());
 */
export class ReconnectBackoff {
  readonly #base: number;
  readonly #cap: number;
  readonly #resetAfter: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #perStep: number;
  #attempt = 0;
  #since: number | undefined;

  constructor(options: BackoffSettings = {}) {
    this.#base = options.baseMs ?? 1000;
    this.#cap = options.capMs ?? 60_000;
    this.#resetAfter = options.resetAfterMs ?? 30_000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#perStep = Math.max(1, Math.floor(options.perStep ?? 1));
  }

  /** The wait before the next attempt; every `perStep` calls grow the step until a link lasts. */
  next(): number {
    const step = Math.min(this.#cap, this.#base * 2 ** Math.floor(this.#attempt / this.#perStep));
    if (step < this.#cap) this.#attempt++;
    return Math.floor(this.#random() * step);
  }

  /** A link was established. */
  linked(): void {
    this.#since = this.#now();
  }

  /** The link ended: if it lasted, the next wait starts from the first step again. */
  unlinked(): void {
    if (this.#since !== undefined && this.#now() - this.#since >= this.#resetAfter) this.#attempt = 0;
    this.#since = undefined;
  }
}

export interface LinkClientOptions {
  /**
   * The server: `wss://host[:port]` (the link path is added when the URL has none) or `ws://` (tests);
   * or its replicas, tried in order from a random one (`backoff.random` picks it), the next one after
   * a failed attempt or a lost link.
   */
  url: string | readonly string[];
  /** The bearer token, or how to get it: called before every attempt, so a rotated token file is picked up. */
  token: string | (() => string | Promise<string>);
  name: string;
  labels: Record<string, string>;
  facts: NodeFacts;
  /** PEM CA bundle the server's certificate must chain to (default: the system's). */
  ca?: string | Buffer | undefined;
  apply: ConfigApplier;
  log: Logger;
  registry?: Registry | undefined;
  maxMessageBytes?: number;
  backoff?: BackoffOptions;
}

/** The link URL: the path defaults to /api/v1/link. */
export function linkUrl(server: string): string {
  const url = new URL(server);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new TypeError(`expected a ws:// or wss:// URL, got "${server}"`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = linkPath;
  return url.toString();
}

/**
 * @example
 *   const client = new LinkClient({ url: 'wss://opsctl.example:9443', token: () => readFileSync(tokenFile, 'utf8'),
 *     name: 'web-1', labels: { role: 'web' }, facts: collectFacts(), apply: new FileApplier({ dataDir, log }), log });
 *   client.start();
 *   ...
 *   await client.stop();
 */
export class LinkClient {
  readonly #options: LinkClientOptions;
  readonly #urls: readonly string[];
  #at: number;
  readonly #log: Logger;
  readonly #backoff: ReconnectBackoff;
  readonly #maxBytes: number;
  readonly #applied = new Map<string, { kind: ConfigKind; revision: number }>();
  readonly #metrics: { up: Gauge; attempts: Counter<'result'>; configs: Counter<'result'> } | undefined;
  #socket: WebSocket | undefined;
  #replica: string | undefined;
  #stopped = true;
  #retryTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #loaded: Promise<void> | undefined;

  constructor(options: LinkClientOptions) {
    this.#options = options;
    const urls = typeof options.url === 'string' ? [options.url] : options.url;
    if (urls.length === 0) throw new TypeError('expected at least one server URL');
    this.#urls = [...new Set(urls.map(linkUrl))];
    this.#log = options.log;
    // A random first replica spreads agents configured with the same list.
    this.#at = Math.min(this.#urls.length - 1, Math.floor((options.backoff?.random ?? Math.random)() * this.#urls.length));
    this.#backoff = new ReconnectBackoff({ ...options.backoff, perStep: this.#urls.length });
    this.#maxBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    if (options.registry) {
      const registers = [options.registry];
      this.#metrics = {
        up: new Gauge({ name: 'opsctl_agent_link_up', help: 'Whether the agent is linked to a server (1) or not (0).', registers }),
        attempts: new Counter({ name: 'opsctl_agent_link_connects_total', help: 'Link attempts by result (linked, failed, refused: 401/403/429/503).', labelNames: ['result'] as const, registers }),
        configs: new Counter({ name: 'opsctl_agent_link_configs_total', help: 'Pushed configs handled, by result (applied, failed, removed).', labelNames: ['result'] as const, registers }),
      };
    }
  }

  /** Whether the server welcomed us and the link is open. */
  get linked(): boolean {
    return this.#replica !== undefined;
  }

  /** The server replica holding our link, when linked. */
  get replica(): string | undefined {
    return this.#replica;
  }

  /** The server URL (link path included) of the current or next attempt. */
  get url(): string {
    return this.#urls[this.#at] as string;
  }

  /** Connects (at once) and keeps reconnecting until stop(). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loaded ??= this.#loadApplied();
    void this.#connect();
  }

  /** Closes the link (the server records lastSeen) and stops reconnecting; waits for the apply in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.OPEN) socket.close(closeCodes.normal, 'agent stopping');
      else socket.terminate();
      const timer = setTimeout(() => socket.terminate(), 3000);
      await closed;
      clearTimeout(timer);
    }
    await this.#queue;
  }

  async #loadApplied(): Promise<void> {
    try {
      for (const [name, entry] of Object.entries(await this.#options.apply.applied?.() ?? {})) this.#applied.set(name, entry);
    } catch (err) {
      this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read what was applied before');
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    // The next replica (the same one when there is only one), after a jittered wait.
    this.#at = (this.#at + 1) % this.#urls.length;
    const delayMs = this.#backoff.next();
    this.#log.debug({ delayMs, url: this.url }, 'reconnecting');
    this.#retryTimer = setTimeout(() => { void this.#connect(); }, delayMs);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    await this.#loaded;
    let token: string;
    try {
      const { token: source } = this.#options;
      token = (typeof source === 'string' ? source : await source()).trim();
      if (token === '') throw new Error('empty token');
    } catch (err) {
      this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'link token unavailable');
      this.#metrics?.attempts.inc({ result: 'failed' });
      this.#retry();
      return;
    }
    if (this.#stopped) return;
    const url = this.url;
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      maxPayload: this.#maxBytes,
      handshakeTimeout: 10_000,
      ...(this.#options.ca !== undefined && { ca: this.#options.ca }),
    });
    this.#socket = socket;
    let pingTimer: NodeJS.Timeout | undefined;
    let lastPong = Date.now();
    const welcomeTimer = setTimeout(() => {
      this.#log.warn('no welcome from the server, reconnecting');
      socket.terminate();
    }, 30_000);
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < 4096) body += chunk; });
      res.on('end', () => {
        let error: { code?: string; message?: string } = {};
        try {
          error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
        } catch {
          // not our JSON error body
        }
        const status = res.statusCode ?? 0;
        const level = status === 401 || status === 403 ? 'error' : 'warn';
        this.#log[level]({ status, code: error.code, error: error.message, url }, 'link refused by the server');
        this.#metrics?.attempts.inc({ result: 'refused' });
        socket.terminate();
      });
    });
    socket.on('open', () => {
      this.#send(socket, {
        type: 'hello', name: this.#options.name, labels: this.#options.labels, facts: this.#options.facts, version: versionInfo().version,
        applied: Object.fromEntries([...this.#applied].map(([name, e]) => [name, e.revision])),
      });
    });
    socket.on('pong', () => { lastPong = Date.now(); });
    socket.on('message', (data, isBinary) => {
      const parsed = parseMessage(serverMessageSchema, data, isBinary, this.#maxBytes);
      if (!parsed.ok) {
        this.#log.warn({ code: parsed.code, reason: parsed.reason }, 'link message rejected');
        socket.close(parsed.code, closeReason(parsed.reason));
        return;
      }
      const message = parsed.message;
      if (message.type === 'welcome') {
        clearTimeout(welcomeTimer);
        this.#replica = message.replica;
        this.#backoff.linked();
        this.#metrics?.attempts.inc({ result: 'linked' });
        this.#metrics?.up.set(1);
        this.#log.info({ replica: message.replica, url }, 'linked to the server');
        const everyMs = message.heartbeatSeconds * 1000;
        let seq = 0;
        lastPong = Date.now();
        pingTimer = setInterval(() => {
          if (Date.now() - lastPong > 3 * everyMs) {
            this.#log.warn({ replica: this.#replica }, 'server silent for three heartbeats, reconnecting');
            socket.terminate();
            return;
          }
          this.#send(socket, { type: 'heartbeat', seq: seq++ });
          socket.ping();
        }, everyMs);
        return;
      }
      this.#handle(socket, message);
    });
    socket.on('error', (err) => { this.#log.debug({ err: err.message }, 'link socket error'); });
    socket.on('close', (code, reason) => {
      clearTimeout(welcomeTimer);
      clearInterval(pingTimer);
      const wasLinked = this.#replica !== undefined;
      if (this.#socket === socket) this.#socket = undefined;
      this.#replica = undefined;
      this.#metrics?.up.set(0);
      if (wasLinked) {
        this.#backoff.unlinked();
        this.#log[this.#stopped ? 'info' : 'warn']({ code, reason: reason.toString(), url }, 'link closed');
      } else if (!this.#stopped) {
        this.#metrics?.attempts.inc({ result: 'failed' });
        this.#log.debug({ code, url }, 'link attempt failed');
      }
      this.#retry();
    });
  }

  #handle(socket: WebSocket, message: Exclude<ServerMessage, { type: 'welcome' }>): void {
    if (message.type === 'error') {
      this.#log.warn({ code: message.code, error: message.message }, 'server reported an error');
      return;
    }
    if (message.type === 'config') {
      const doc: PushedDoc = { name: message.name, kind: message.kind, revision: message.revision, body: message.body };
      this.#enqueue(async () => {
        const result = await this.#options.apply.apply(doc).catch((err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }));
        if (result.ok) this.#applied.set(doc.name, { kind: doc.kind, revision: doc.revision });
        this.#metrics?.configs.inc({ result: result.ok ? 'applied' : 'failed' });
        this.#send(socket, { type: 'ack', config: doc.name, revision: doc.revision, ok: result.ok, ...(!result.ok && { error: result.error }) });
      });
      return;
    }
    const { name } = message;
    this.#enqueue(async () => {
      const kind = message.kind ?? this.#applied.get(name)?.kind;
      if (kind === undefined) return;
      await this.#options.apply.remove(name, kind);
      this.#applied.delete(name);
      this.#metrics?.configs.inc({ result: 'removed' });
    });
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#queue = this.#queue.then(fn).catch((err: unknown) => {
      this.#log.error({ err: err instanceof Error ? err.message : String(err) }, 'applying a pushed config failed');
    });
  }

  #send(socket: WebSocket, message: AgentMessage): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
}
