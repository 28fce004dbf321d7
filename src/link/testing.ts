// Test helpers for the link: a hub on a real listener (127.0.0.1:0) with a fake auth layer, a
// logger that keeps its lines, an applier that records what it is given, and raw WebSocket peers.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { createRegistry, type Registry } from '../core/metrics.ts';
import type { Store } from '../store/types.ts';
import type { ApplyResult, ConfigApplier, PushedDoc } from './apply.ts';
import { LinkClient, type LinkClientOptions } from './client.ts';
import { LinkHub, type Authenticate, type LinkHubOptions } from './hub.ts';
import { linkPath } from './protocol.ts';
import type { ConfigKind, NodeFacts } from './records.ts';

export { until } from '../../test/helpers/ship.ts';

/** A logger whose lines (parsed) are kept in `lines`. */
export function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  return { log, lines };
}

/** `Bearer agent-token` is an agent, `Bearer read-token` a reader without the agent scope; anything else is 401. */
export const fakeAuthenticate: Authenticate = (req) => {
  const header = req.headers.authorization;
  if (header === 'Bearer agent-token') return Promise.resolve({ subject: 'agent', scopes: ['agent'] });
  if (header === 'Bearer read-token') return Promise.resolve({ subject: 'reader', scopes: ['ops:read'] });
  return Promise.reject(Object.assign(new Error('invalid bearer token'), { statusCode: 401, code: 'OPS_ERR_AUTH' }));
};

export interface TestHub {
  hub: LinkHub;
  app: FastifyInstance;
  /** ws://127.0.0.1:PORT */
  url: string;
  port: number;
  registry: Registry;
  lines: Array<Record<string, unknown>>;
  /** Stops the hub and closes its listener (also done when the test ends). */
  close(): Promise<void>;
}

/** A hub on its own fastify app on 127.0.0.1 (port 0 unless given), started; stopped when the test ends. */
export async function startHub(t: { after(fn: () => unknown): void }, store: Store, options: Partial<LinkHubOptions> & { port?: number } = {}): Promise<TestHub> {
  const { log, lines } = captureLogger();
  const registry = createRegistry({ runtime: false });
  const { port: wanted = 0, ...hubOptions } = options;
  const hub = new LinkHub({ store, replica: 'replica-a', log, registry, heartbeatSeconds: 0.2, linkRefreshSeconds: 0.3, ...hubOptions });
  const app = Fastify();
  hub.register(app, fakeAuthenticate);
  await app.listen({ host: '127.0.0.1', port: wanted });
  await hub.start();
  const { port } = app.server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= (async () => {
    await hub.stop();
    await app.close();
  })());
  t.after(close);
  return { hub, app, url: `ws://127.0.0.1:${port}`, port, registry, lines, close };
}

export function testFacts(hostname = 'test-host'): NodeFacts {
  return { hostname, os: 'Debian GNU/Linux 13 (trixie)', kernel: '6.12.0', arch: 'x64', cpus: 4, memoryBytes: 8 * 1024 ** 3, agentVersion: '0.1.0' };
}

/** Records every document and removal; `fail` names configs whose apply fails. */
export class RecordingApplier implements ConfigApplier {
  readonly docs: PushedDoc[] = [];
  readonly removed: Array<{ name: string; kind: ConfigKind }> = [];
  readonly fail = new Set<string>();
  readonly state: Record<string, { kind: ConfigKind; revision: number }> = {};

  apply(doc: PushedDoc): Promise<ApplyResult> {
    this.docs.push(doc);
    if (this.fail.has(doc.name)) return Promise.resolve({ ok: false, error: `refused ${doc.name}` });
    this.state[doc.name] = { kind: doc.kind, revision: doc.revision };
    return Promise.resolve({ ok: true });
  }

  remove(name: string, kind: ConfigKind): Promise<void> {
    this.removed.push({ name, kind });
    delete this.state[name];
    return Promise.resolve();
  }

  applied(): Promise<Record<string, { kind: ConfigKind; revision: number }>> {
    return Promise.resolve({ ...this.state });
  }
}

/** A started LinkClient with test defaults (agent token, short backoff), stopped when the test ends. */
export function startClient(t: { after(fn: () => unknown): void }, options: Partial<LinkClientOptions> & Pick<LinkClientOptions, 'url'>): LinkClient {
  const client = new LinkClient({
    token: 'agent-token', name: 'node-1', labels: {}, facts: testFacts(), apply: new RecordingApplier(),
    log: pino({ level: 'silent' }), backoff: { baseMs: 20, capMs: 200 }, ...options,
  });
  client.start();
  t.after(() => client.stop());
  return client;
}

/** A raw WebSocket to a hub: its messages and, once closed, its close code. */
export interface RawPeer {
  socket: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

/** Opens a raw link (no reconnects, no applier) with `token`; rejects with the HTTP status on a refused upgrade. */
export async function rawPeer(t: { after(fn: () => unknown): void }, url: string, token = 'agent-token'): Promise<RawPeer> {
  const socket = new WebSocket(`${url}${linkPath}`, { headers: { authorization: `Bearer ${token}` } });
  t.after(() => socket.terminate());
  socket.on('error', () => undefined);
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (data: Buffer) => { messages.push(JSON.parse(data.toString()) as Record<string, unknown>); });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`status ${res.statusCode}`), { statusCode: res.statusCode }));
      socket.terminate();
    });
    socket.once('error', reject);
  });
  return { socket, messages, closed, send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)) };
}

/** A valid hello for `name`. */
export function hello(name: string, labels: Record<string, string> = {}, applied: Record<string, number> = {}): Record<string, unknown> {
  return { type: 'hello', name, labels, facts: testFacts(name), version: '0.1.0', applied };
}
