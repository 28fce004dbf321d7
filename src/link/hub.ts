// The server side of the agent link: GET /api/v1/link upgraded to a WebSocket after authentication,
// one per agent. Registers the node and its link (under this replica's lease), keeps the link fresh
// from heartbeats, pushes every matching config document and records the agent's acks as rollouts.
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import { isOpsError } from '../core/errors.ts';
import { backoffMs, retryPolicy } from '../core/retry.ts';
import type { Lease, Store } from '../store/types.ts';
import { ConfigCache, type ConfigEntry } from './config-cache.ts';
import { agentMessageSchema, closeCodes, closeReason, defaultMaxMessageBytes, linkPath, parseMessage, type Ack, type Hello, type ServerMessage } from './protocol.ts';
import {
  decodeRecord, encodeRecord, keyName, linkKey, linkRecordSchema, nodeKey, nodeRecordSchema, prefixes, rolloutKey, rolloutRecordSchema,
  type ConfigKind, type LinkRecord, type NodeFacts, type NodeRecord,
} from './records.ts';
import { matches } from './selector.ts';

/** Who a request authenticated as (the server's auth layer). */
export interface Principal {
  subject: string;
  scopes: readonly string[];
}

/** Resolves a request's principal, or throws an error with `statusCode` 401 or 403 (and a `code`). */
export type Authenticate = (req: FastifyRequest) => Promise<Principal>;

export interface LinkHubOptions {
  store: Store;
  /** This server replica's unique name (in link and node records). */
  replica: string;
  log: Logger;
  registry: Registry;
  /** How often agents send a heartbeat (default 10 s); three missed close the link. */
  heartbeatSeconds?: number;
  /** The replica lease's TTL (default 15 s): its links vanish that long after it dies. */
  leaseTtlSeconds?: number;
  /** The longest message either way (default 1 MiB). */
  maxMessageBytes?: number;
  /** Open links per client address (default 50); more get 429. */
  maxConnectionsPerIp?: number;
  /** The shortest time between two writes of a link's lastHeartbeat (default 30 s). */
  linkRefreshSeconds?: number;
}

interface Link {
  socket: WebSocket;
  address: string;
  subject: string;
  connectedAt: Date;
  /** Date.now() of the last message received. */
  lastMessageAt: number;
  /** hello: waiting for it; linked: hello received; registered: node and link keys written. */
  state: 'hello' | 'linked' | 'registered';
  closing: boolean;
  closed: Promise<void>;
  hello?: Hello;
  firstSeen?: string;
  /** The modRevision of this link's key as we last wrote it. */
  linkRev: number;
  linkWrittenAt: number;
  /** What the agent has or was sent, by config name. */
  sent: Map<string, { revision: number; kind?: ConfigKind | undefined }>;
  /** Store writes for this link, one at a time, in order. */
  writes: Promise<void>;
}

const retry = retryPolicy({ baseDelayMs: 500, maxDelayMs: 10_000 });
const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * @example
 *   const hub = new LinkHub({ store, replica: 'server-1', log, registry });
 *   hub.register(app, authenticate);   // before app.listen
 *   await hub.start();
 *   ...
 *   await hub.stop();                  // agents reconnect, possibly to another replica
 */
export class LinkHub {
  readonly replica: string;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #leaseTtl: number;
  readonly #maxBytes: number;
  readonly #maxPerIp: number;
  readonly #refreshMs: number;
  readonly #configs: ConfigCache;
  /** Every open socket, before and after hello. */
  readonly #sockets = new Set<Link>();
  /** Links by node name, from hello on. */
  readonly #links = new Map<string, Link>();
  readonly #perIp = new Map<string, number>();
  readonly #messages: Counter<'direction' | 'type'>;
  readonly #pushes: Counter<'result'>;
  #lease: Lease | undefined;
  #accepting = false;
  #abort = new AbortController();
  #loops: Array<Promise<void>> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LinkHubOptions) {
    this.replica = options.replica;
    this.#store = options.store;
    this.#log = options.log;
    this.#heartbeatMs = (options.heartbeatSeconds ?? 10) * 1000;
    this.#leaseTtl = options.leaseTtlSeconds ?? 15;
    this.#maxBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    this.#maxPerIp = options.maxConnectionsPerIp ?? 50;
    this.#refreshMs = (options.linkRefreshSeconds ?? 30) * 1000;
    this.#configs = new ConfigCache({ store: this.#store, log: this.#log, onChange: (name) => this.#configChanged(name) });
    const registers = [options.registry];
    const links = this.#links;
    new Gauge({ name: 'opsctl_server_links', help: 'Agents linked to this replica (hello received).', registers, collect() { this.set(links.size); } });
    this.#messages = new Counter({ name: 'opsctl_server_link_messages_total', help: 'Agent link messages by direction (in, out) and type (invalid: refused).', labelNames: ['direction', 'type'] as const, registers });
    this.#pushes = new Counter({ name: 'opsctl_server_config_pushes_total', help: 'Config documents pushed to agents, by the agent\'s answer (applied, failed) or dropped (the link closed first).', labelNames: ['result'] as const, registers });
  }

  /** The replica's lease (its link keys are under it); undefined before start, after stop, or while being replaced. */
  get lease(): Lease | undefined {
    return this.#lease;
  }

  /** For /readyz: ["link"] while the hub takes no links. */
  notReady(): string[] {
    return this.#accepting && this.#lease !== undefined ? [] : ['link'];
  }

  /**
   * Adds GET /api/v1/link to `app` (call before it listens): `authenticate` and the `agent` scope are
   * checked in preValidation, before the upgrade, so a refused request gets a plain 401/403. Registers
   * @fastify/websocket in its own scope unless the app already has it.
   */
  register(app: FastifyInstance, authenticate: Authenticate): void {
    const principals = new WeakMap<FastifyRequest, Principal>();
    void app.register(async (scope) => {
      if (!scope.hasDecorator('websocketServer')) {
        await scope.register(websocket, {
          options: { maxPayload: this.#maxBytes },
          errorHandler: (err) => { this.#log.debug({ err: err.message }, 'link socket error'); },
        });
      }
      scope.get(linkPath, {
        websocket: true,
        preValidation: async (req, reply) => {
          const refused = await this.#admit(req, reply, authenticate);
          if (refused === undefined) return;
          if ('principal' in refused) principals.set(req, refused.principal);
          else return refused.reply;
        },
      }, (socket, req) => {
        try {
          this.#accept(socket, req.ip, principals.get(req)?.subject ?? 'unknown');
        } catch (err) {
          this.#log.error({ err: errorMessage(err) }, 'link accept failed');
          socket.terminate();
        }
      });
    });
  }

  async #admit(req: FastifyRequest, reply: FastifyReply, authenticate: Authenticate): Promise<{ principal: Principal } | { reply: FastifyReply } | undefined> {
    const refuse = (status: number, code: string, message: string): { reply: FastifyReply } => {
      this.#log.info({ address: req.ip, status, code }, 'link refused');
      if (status === 503 || status === 429) void reply.header('retry-after', String(Math.ceil(this.#heartbeatMs / 1000)));
      return { reply: reply.code(status).send({ error: { code, message } }) };
    };
    let principal: Principal;
    try {
      principal = await authenticate(req);
    } catch (err) {
      const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
      if (e.statusCode === 401 || e.statusCode === 403) {
        return refuse(e.statusCode, typeof e.code === 'string' ? e.code : 'OPS_ERR_LINK_AUTH', typeof e.message === 'string' ? e.message : 'not authenticated');
      }
      throw err;
    }
    if (!principal.scopes.includes('agent')) return refuse(403, 'OPS_ERR_LINK_AUTH', 'the token lacks the "agent" scope');
    if (!this.#accepting || this.#lease === undefined) return refuse(503, 'OPS_ERR_LINK_UNAVAILABLE', 'this replica takes no agent links now');
    if ((this.#perIp.get(req.ip) ?? 0) >= this.#maxPerIp) return refuse(429, 'OPS_ERR_LINK_UNAVAILABLE', `too many links from ${req.ip}`);
    return { principal };
  }

  /** Grants the lease, lists and watches the configs and the links; rejects if the store cannot be reached. */
  async start(): Promise<void> {
    if (this.#accepting) return;
    this.#abort = new AbortController();
    const { signal } = this.#abort;
    this.#setLease(await this.#store.grant(this.#leaseTtl));
    const { done } = await this.#configs.start(signal);
    const { revision } = await this.#store.range(linkKey(''), { limit: 1 });
    this.#loops = [done, this.#watchLinks(revision + 1, signal)];
    this.#timer = setInterval(() => this.#tick(), Math.max(50, this.#heartbeatMs / 2));
    this.#timer.unref();
    this.#accepting = true;
    this.#log.info({ replica: this.replica, lease: this.#lease?.id, heartbeatSeconds: this.#heartbeatMs / 1000 }, 'link hub started');
  }

  /** Closes every link (their nodes' lastSeen written), ends the watches and revokes the lease. */
  async stop(): Promise<void> {
    this.#accepting = false;
    this.#abort.abort();
    clearInterval(this.#timer);
    const links = [...this.#sockets];
    for (const link of links) this.#close(link, closeCodes.goingAway, 'server stopping');
    await Promise.all(links.map((l) => l.closed));
    await Promise.all(links.map((l) => l.writes));
    await Promise.all(this.#loops);
    this.#loops = [];
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.revoke().catch((err: unknown) => { this.#log.warn({ err: errorMessage(err) }, 'lease revoke failed'); });
    this.#log.info({ replica: this.replica }, 'link hub stopped');
  }

  #setLease(lease: Lease): void {
    this.#lease = lease;
    lease.lost.addEventListener('abort', () => { void this.#leaseLost(lease); }, { once: true });
  }

  /** The lease is gone (and our link keys with it): close the links so agents register again, and get a new lease. */
  async #leaseLost(lease: Lease): Promise<void> {
    if (this.#lease !== lease || this.#abort.signal.aborted) return;
    this.#lease = undefined;
    this.#log.error({ lease: lease.id, links: this.#links.size }, 'replica lease lost, closing links');
    for (const link of [...this.#sockets]) this.#close(link, closeCodes.restart, 'replica lease lost');
    const { signal } = this.#abort;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const next = await this.#store.grant(this.#leaseTtl);
        if (signal.aborted) {
          await next.revoke().catch(() => undefined);
          return;
        }
        this.#setLease(next);
        this.#log.info({ lease: next.id }, 'replica lease granted again');
        return;
      } catch (err) {
        this.#log.warn({ err: errorMessage(err), attempt }, 'lease grant failed, retrying');
        await sleep(backoffMs(retry, attempt, Math.random), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  #accept(socket: WebSocket, address: string, subject: string): void {
    let resolveClosed = (): void => undefined;
    const link: Link = {
      socket, address, subject, connectedAt: new Date(), lastMessageAt: Date.now(), state: 'hello', closing: false,
      closed: new Promise<void>((resolve) => { resolveClosed = resolve; }),
      linkRev: 0, linkWrittenAt: 0, sent: new Map(), writes: Promise.resolve(),
    };
    this.#sockets.add(link);
    this.#perIp.set(address, (this.#perIp.get(address) ?? 0) + 1);
    socket.on('message', (data, isBinary) => {
      try {
        this.#message(link, data, isBinary);
      } catch (err) {
        this.#log.error({ err: errorMessage(err), address }, 'link message failed');
        this.#close(link, closeCodes.internal, 'internal error');
      }
    });
    socket.on('error', (err) => {
      // ws refuses bad frames itself (over maxPayload, invalid UTF-8...) and closes with their code.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
        this.#messages.inc({ direction: 'in', type: 'invalid' });
        this.#log.warn({ node: link.hello?.name, address, code: code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? closeCodes.tooBig : code, reason: err.message }, 'link message rejected');
      } else {
        this.#log.warn({ node: link.hello?.name, address, err: err.message }, 'link socket error');
      }
    });
    socket.on('close', (code, reason) => {
      this.#closed(link, code, reason.toString());
      resolveClosed();
    });
    if (!this.#accepting) this.#close(link, closeCodes.goingAway, 'server stopping');
  }

  #message(link: Link, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (link.closing) return;
    link.lastMessageAt = Date.now();
    const parsed = parseMessage(agentMessageSchema, data, isBinary, this.#maxBytes);
    if (!parsed.ok) {
      this.#messages.inc({ direction: 'in', type: 'invalid' });
      this.#reject(link, parsed.code, parsed.reason);
      return;
    }
    const message = parsed.message;
    this.#messages.inc({ direction: 'in', type: message.type });
    if (message.type === 'hello') {
      if (link.state !== 'hello') this.#reject(link, closeCodes.policy, 'hello sent twice');
      else this.#hello(link, message);
      return;
    }
    if (link.state === 'hello') {
      this.#reject(link, closeCodes.policy, `${message.type} before hello`);
      return;
    }
    if (message.type === 'heartbeat') {
      if (link.state === 'registered' && Date.now() - link.linkWrittenAt >= this.#refreshMs) this.#enqueue(link, 'refresh', () => this.#refresh(link));
      return;
    }
    this.#enqueue(link, 'rollout', () => this.#ack(link, message));
  }

  /** Logs and closes a link that sent something it should not have. */
  #reject(link: Link, code: number, reason: string): void {
    this.#log.warn({ node: link.hello?.name, address: link.address, code, reason }, 'link message rejected');
    this.#close(link, code, reason);
  }

  #hello(link: Link, hello: Hello): void {
    link.hello = hello;
    link.state = 'linked';
    const old = this.#links.get(hello.name);
    if (old !== undefined && old !== link) {
      this.#log.info({ node: hello.name, address: link.address, previous: old.address }, 'link replaced by a newer connection');
      this.#links.delete(hello.name);
      this.#close(old, closeCodes.replaced, 'replaced by a newer connection');
    }
    this.#links.set(hello.name, link);
    link.sent = new Map(Object.entries(hello.applied).map(([name, revision]) => [name, { revision }]));
    this.#enqueue(link, 'register', async () => {
      if (link.closing) return;
      try {
        await this.#registerNode(link, hello);
      } catch (err) {
        this.#log.error({ node: hello.name, err: errorMessage(err) }, 'node registration failed');
        this.#close(link, closeCodes.internal, 'registration failed, retry later');
        return;
      }
      if (link.closing) return;
      link.state = 'registered';
      this.#send(link, { type: 'welcome', replica: this.replica, heartbeatSeconds: this.#heartbeatMs / 1000 });
      this.#log.info({ node: hello.name, address: link.address, version: hello.version, labels: hello.labels }, 'agent linked');
      for (const name of new Set([...this.#configs.names(), ...link.sent.keys()])) this.#offer(link, name);
      await this.#recordApplied(hello);
    });
  }

  /**
   * What the agent says it applied, recorded where its ack was lost (the link dropped between
   * applying and acking): the rollout record then shows that revision, as the ack would have.
   */
  async #recordApplied(hello: Hello): Promise<void> {
    for (const [config, revision] of Object.entries(hello.applied)) {
      const key = rolloutKey(config, hello.name);
      try {
        const kv = await this.#store.get(key);
        const current = kv && decodeRecord(rolloutRecordSchema, kv);
        if (current && current.revision >= revision) continue;
        const record = { config, node: hello.name, revision, ok: true, appliedAt: new Date().toISOString() };
        await this.#store.put(key, encodeRecord(rolloutRecordSchema, record, key));
      } catch (err) {
        this.#log.warn({ node: hello.name, config, err: errorMessage(err) }, 'cannot record an applied config from hello');
      }
    }
  }

  /** Writes the node (keeping firstSeen) and the link under our lease, in one transaction. */
  async #registerNode(link: Link, hello: Hello): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const lease = this.#lease;
      if (lease === undefined) throw new Error('no replica lease');
      const key = nodeKey(hello.name);
      const existing = await this.#store.get(key);
      const now = new Date().toISOString();
      let firstSeen = now;
      if (existing !== undefined) {
        try {
          firstSeen = decodeRecord(nodeRecordSchema, existing).firstSeen;
        } catch (err) {
          this.#log.warn({ key, err: errorMessage(err) }, 'node record replaced');
        }
      }
      link.firstSeen = firstSeen;
      const node = this.#nodeRecord(link, hello, now);
      const record: LinkRecord = { node: hello.name, replica: this.replica, connectedAt: link.connectedAt.toISOString(), lastHeartbeat: now, address: link.address };
      const result = await this.#store.txn({
        compare: [{ key, target: 'mod', op: '=', value: existing?.modRevision ?? 0 }],
        success: [
          { op: 'put', key, value: encodeRecord(nodeRecordSchema, node, key) },
          { op: 'put', key: linkKey(hello.name), value: encodeRecord(linkRecordSchema, record, linkKey(hello.name)), lease: lease.id },
        ],
      });
      if (result.succeeded) {
        link.linkRev = result.revision;
        link.linkWrittenAt = Date.now();
        return;
      }
      if (attempt >= 5) throw new Error('the node record kept changing');
    }
  }

  #nodeRecord(link: Link, hello: Hello, lastSeen: string): NodeRecord {
    const facts: NodeFacts = hello.facts;
    return { name: hello.name, labels: hello.labels, facts, firstSeen: link.firstSeen ?? lastSeen, lastSeen, lastReplica: this.replica };
  }

  /** Writes lastHeartbeat if the link key is still the one we wrote; else the link was replaced or lost. */
  async #refresh(link: Link): Promise<void> {
    const hello = link.hello;
    const lease = this.#lease;
    if (hello === undefined || lease === undefined || link.closing) return;
    const key = linkKey(hello.name);
    const record: LinkRecord = { node: hello.name, replica: this.replica, connectedAt: link.connectedAt.toISOString(), lastHeartbeat: new Date().toISOString(), address: link.address };
    const result = await this.#store.txn({
      compare: [{ key, target: 'mod', op: '=', value: link.linkRev }],
      success: [{ op: 'put', key, value: encodeRecord(linkRecordSchema, record, key), lease: lease.id }],
      failure: [{ op: 'get', key }],
    });
    if (result.succeeded) {
      link.linkRev = result.revision;
      link.linkWrittenAt = Date.now();
      return;
    }
    const current = result.results[0]?.op === 'get' ? result.results[0].kvs[0] : undefined;
    this.#linkKeyChanged(link, current === undefined ? undefined : this.#replicaOf(current));
  }

  /** The link key no longer is ours: another replica holds the node now (replaced), or it is gone (register again). */
  #linkKeyChanged(link: Link, replica: string | undefined): void {
    if (link.closing || replica === this.replica) return;
    if (replica !== undefined) {
      this.#log.info({ node: link.hello?.name, replica }, 'link taken over by another replica');
      this.#close(link, closeCodes.replaced, `replaced by a newer connection to ${replica}`);
    } else {
      this.#log.warn({ node: link.hello?.name }, 'link key gone, closing so the agent registers again');
      this.#close(link, closeCodes.restart, 'link key gone');
    }
  }

  #replicaOf(kv: { key: string; value: string }): string | undefined {
    try {
      return decodeRecord(linkRecordSchema, kv).replica;
    } catch {
      return '';
    }
  }

  async #ack(link: Link, ack: Ack): Promise<void> {
    const node = link.hello?.name;
    if (node === undefined) return;
    this.#pushes.inc({ result: ack.ok ? 'applied' : 'failed' });
    const key = rolloutKey(ack.config, node);
    const record = { config: ack.config, node, revision: ack.revision, ok: ack.ok, ...(ack.error !== undefined && { error: ack.error }), appliedAt: new Date().toISOString() };
    await this.#store.put(key, encodeRecord(rolloutRecordSchema, record, key));
    if (!ack.ok) this.#log.warn({ node, config: ack.config, revision: ack.revision, error: ack.error }, 'agent failed to apply a config');
  }

  #closed(link: Link, code: number, reason: string): void {
    this.#sockets.delete(link);
    const count = (this.#perIp.get(link.address) ?? 1) - 1;
    if (count > 0) this.#perIp.set(link.address, count);
    else this.#perIp.delete(link.address);
    link.closing = true;
    const hello = link.hello;
    if (hello === undefined) return;
    if (this.#links.get(hello.name) === link) this.#links.delete(hello.name);
    this.#log.info({ node: hello.name, address: link.address, code, reason }, 'agent unlinked');
    if (link.state === 'hello') return;
    this.#enqueue(link, 'unregister', () => this.#unregister(link, hello));
  }

  /**
   * Deletes our link key and writes the node's lastSeen, if the key is still ours; if no one holds
   * the node (our lease was lost), only lastSeen. A node another replica holds now is left alone.
   */
  async #unregister(link: Link, hello: Hello): Promise<void> {
    if (link.linkRev === 0) return;
    const key = nodeKey(hello.name);
    const node = encodeRecord(nodeRecordSchema, this.#nodeRecord(link, hello, new Date().toISOString()), key);
    const ours = await this.#store.txn({
      compare: [{ key: linkKey(hello.name), target: 'mod', op: '=', value: link.linkRev }],
      success: [{ op: 'delete', key: linkKey(hello.name) }, { op: 'put', key, value: node }],
    });
    if (ours.succeeded) return;
    await this.#store.txn({ compare: [{ key: linkKey(hello.name), target: 'create', op: '=', value: 0 }], success: [{ op: 'put', key, value: node }] });
  }

  #enqueue(link: Link, what: string, fn: () => Promise<void>): void {
    link.writes = link.writes.then(fn).catch((err: unknown) => {
      this.#log.warn({ node: link.hello?.name, what, err: errorMessage(err) }, 'link store write failed');
    });
  }

  #close(link: Link, code: number, reason: string): void {
    if (link.closing) return;
    link.closing = true;
    link.socket.close(code, closeReason(reason));
    // A peer that never answers the close handshake (gone, or stuck) is cut off.
    setTimeout(() => { link.socket.terminate(); }, 3000).unref();
  }

  #send(link: Link, message: ServerMessage): boolean {
    if (link.closing || link.socket.readyState !== link.socket.OPEN) return false;
    link.socket.send(JSON.stringify(message));
    this.#messages.inc({ direction: 'out', type: message.type });
    return true;
  }

  #configChanged(name: string): void {
    for (const link of this.#links.values()) if (link.state === 'registered') this.#offer(link, name);
  }

  /** Sends `name` to a link if it matches and the agent lacks that revision; `remove` if it no longer applies. */
  #offer(link: Link, name: string): void {
    const entry: ConfigEntry | undefined = this.#configs.get(name);
    const sent = link.sent.get(name);
    const labels = link.hello?.labels ?? {};
    if (entry !== undefined && matches(entry.selector, labels)) {
      if (sent?.revision === entry.revision) return;
      const { record, revision } = entry;
      if (this.#send(link, { type: 'config', name, kind: record.kind, revision, body: record.body })) {
        link.sent.set(name, { revision, kind: record.kind });
      } else {
        this.#pushes.inc({ result: 'dropped' });
      }
    } else if (sent !== undefined) {
      const kind = entry?.record.kind ?? sent.kind;
      if (this.#send(link, { type: 'remove', name, ...(kind !== undefined && { kind }) })) link.sent.delete(name);
    }
  }

  /** Closes links silent for three heartbeat intervals, and sockets that never said hello. */
  #tick(): void {
    const now = Date.now();
    for (const link of this.#sockets) {
      if (link.closing || now - link.lastMessageAt <= 3 * this.#heartbeatMs) continue;
      const hello = link.state === 'hello';
      this.#log.warn({ node: link.hello?.name, address: link.address }, hello ? 'no hello, closing' : 'heartbeats missed, closing');
      this.#close(link, hello ? closeCodes.helloTimeout : closeCodes.heartbeatTimeout, hello ? 'no hello' : 'heartbeats missed');
    }
  }

  /** Another replica writing one of our nodes' link keys (the newest link wins), or the key vanishing. */
  async #watchLinks(from: number, signal: AbortSignal): Promise<void> {
    let next = from;
    for (let failures = 0; !signal.aborted;) {
      try {
        for await (const ev of this.#store.watch(prefixes.links, { fromRevision: next, signal })) {
          failures = 0;
          next = ev.revision + 1;
          const link = this.#links.get(keyName(ev.kv.key));
          if (link?.state !== 'registered' || ev.kv.modRevision === link.linkRev) continue;
          if (ev.type === 'put') this.#linkKeyChanged(link, this.#replicaOf(ev.kv));
          else if (ev.revision > link.linkRev) this.#linkKeyChanged(link, undefined);
        }
        return;
      } catch (err) {
        if (signal.aborted || isOpsError(err, 'OPS_ERR_STORE_CLOSED')) return;
        this.#log.warn({ err: errorMessage(err) }, 'link watch failed, retrying');
        if (isOpsError(err, 'OPS_ERR_STORE_COMPACTED')) {
          // Nothing to relist: our links are checked again at their next refresh.
          next = (await this.#store.range(linkKey(''), { limit: 1 }).catch(() => ({ revision: next - 1 }))).revision + 1;
        } else {
          await sleep(backoffMs(retry, ++failures, Math.random), undefined, { signal }).catch(() => undefined);
        }
      }
    }
  }
}
