// The hub and the client end to end, in process: fastify on 127.0.0.1:0, the real SQLite store.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { z } from 'zod';
import { openStore } from '../store/index.ts';
import type { Store, WatchEvent } from '../store/types.ts';
import { FileApplier } from './apply.ts';
import { closeCodes, linkPath } from './protocol.ts';
import {
  configKey, configRecordSchema, decodeRecord, encodeRecord, linkKey, linkRecordSchema, nodeKey, nodeRecordSchema, nodeStatus,
  rolloutKey, rolloutRecordSchema, type ConfigKind, type ConfigRecord, type LinkRecord, type NodeRecord, type RolloutRecord,
} from './records.ts';
import { freePort } from '../../test/helpers/process.ts';
import { hello, rawPeer, RecordingApplier, startClient, startHub, until } from './testing.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sqlite(t: TestContext): Promise<Store> {
  const store = await openStore(`sqlite:${join(tempDir(t), 'store.db')}`);
  t.after(() => store.close());
  return store;
}

async function read<S extends z.ZodType>(store: Store, key: string, schema: S): Promise<z.output<S> | undefined> {
  const kv = await store.get(key);
  return kv === undefined ? undefined : decodeRecord(schema, kv);
}
const node = (store: Store, name: string): Promise<NodeRecord | undefined> => read(store, nodeKey(name), nodeRecordSchema);
const link = (store: Store, name: string): Promise<LinkRecord | undefined> => read(store, linkKey(name), linkRecordSchema);
const rollout = (store: Store, config: string, name: string): Promise<RolloutRecord | undefined> => read(store, rolloutKey(config, name), rolloutRecordSchema);

/** A WebSocket upgrade request answered with plain HTTP: its status and body. */
function upgradeRequest(port: number, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: linkPath,
      headers: { authorization: `Bearer ${token}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Puts a config document as the server's API would; resolves to its revision. */
function putConfig(store: Store, name: string, kind: ConfigKind, selector: string, body: unknown): Promise<number> {
  const record: ConfigRecord = { name, kind, selector, body, author: 'test', updatedAt: new Date().toISOString() };
  return store.put(configKey(name), encodeRecord(configRecordSchema, record, configKey(name)));
}

test('hub: hello registers the node and its link; heartbeats keep it ready; a stopped agent is not_ready since lastSeen', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store, { heartbeatSeconds: 0.1, linkRefreshSeconds: 0.2 });
  const client = startClient(t, { url: h.url, name: 'web-1', labels: { role: 'web' } });
  await until(() => client.linked, 'linked');
  const n = await node(store, 'web-1');
  const l = await link(store, 'web-1');
  assert.ok(n && l);
  assert.deepEqual({ ...n, firstSeen: '', lastSeen: '' }, { name: 'web-1', labels: { role: 'web' }, facts: n.facts, firstSeen: '', lastSeen: '', lastReplica: 'replica-a' });
  assert.equal(n.facts.hostname, 'test-host');
  assert.deepEqual({ ...l, connectedAt: '', lastHeartbeat: '' }, { node: 'web-1', replica: 'replica-a', connectedAt: '', lastHeartbeat: '', address: '127.0.0.1' });
  assert.equal((await store.get(linkKey('web-1')))?.lease, h.hub.lease?.id, 'the link key is under the replica lease');
  assert.equal((await store.get(nodeKey('web-1')))?.lease, undefined, 'the node key is persistent');
  assert.deepEqual(nodeStatus(n, l, new Date()), { status: 'ready' });
  assert.match(await h.registry.getSingleMetricAsString('opsctl_server_links'), /^opsctl_server_links 1$/m);

  // Heartbeats refresh lastHeartbeat (at most every linkRefreshSeconds).
  await until(async () => ((await link(store, 'web-1'))?.lastHeartbeat ?? '') > l.lastHeartbeat, 'lastHeartbeat refreshed');
  assert.equal((await node(store, 'web-1'))?.lastSeen, n.lastSeen, 'heartbeats do not write the node');

  await client.stop();
  await until(async () => (await link(store, 'web-1')) === undefined, 'link key deleted');
  const after = await node(store, 'web-1');
  assert.ok(after && after.lastSeen > n.lastSeen, 'lastSeen written on disconnect');
  assert.equal(after.firstSeen, n.firstSeen);
  assert.deepEqual(nodeStatus(after, undefined, new Date()), { status: 'not_ready', reason: `disconnected since ${after.lastSeen}` });
  await until(async () => /^opsctl_server_links 0$/m.test(await h.registry.getSingleMetricAsString('opsctl_server_links')), 'gauge 0');
});

test('hub: a matching config reaches the agent and its ack lands in /opsctl/rollout; a non-matching one does not', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  const applier = new RecordingApplier();
  const client = startClient(t, { url: h.url, name: 'web-1', labels: { role: 'web', env: 'prod' }, apply: applier });
  await until(() => client.linked, 'linked');
  const dbRev = await putConfig(store, 'db-probes', 'probe', 'role=db', { targets: [] });
  const webRev = await putConfig(store, 'web-probes', 'probe', 'role=web,env!=dev', { targets: [] });
  await until(async () => (await rollout(store, 'web-probes', 'web-1')) !== undefined, 'rollout of web-probes');
  const r = await rollout(store, 'web-probes', 'web-1');
  assert.deepEqual({ ...r, appliedAt: '' }, { config: 'web-probes', node: 'web-1', revision: webRev, ok: true, appliedAt: '' });
  // db-probes came first: had it been sent, it would have been applied before web-probes.
  assert.deepEqual(applier.docs, [{ name: 'web-probes', kind: 'probe', revision: webRev, body: { targets: [] } }]);
  assert.equal(await rollout(store, 'db-probes', 'web-1'), undefined);
  assert.ok(dbRev < webRev);

  // A new revision is pushed again; the ack records it.
  const rev2 = await putConfig(store, 'web-probes', 'probe', 'role=web', { targets: [], concurrency: 5 });
  await until(async () => (await rollout(store, 'web-probes', 'web-1'))?.revision === rev2, 'rollout of revision 2');
  assert.match(await h.registry.getSingleMetricAsString('opsctl_server_config_pushes_total'), /result="applied"\} 2/);
});

test('hub: a document that fails validation acks ok=false naming the key; the rollout says so and nothing is written', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  const dataDir = tempDir(t);
  const applied: string[] = [];
  const apply = new FileApplier({ dataDir, log: pino({ level: 'silent' }), onApplied: (kind, name) => { applied.push(`${kind}/${name}`); } });
  const client = startClient(t, { url: h.url, name: 'web-1', apply });
  await until(() => client.linked, 'linked');
  const bad = { targets: [{ name: 'site', target: 'http://127.0.0.1/', module: 'http_2xx', interval: 'soon' }] };
  const badRev = await putConfig(store, 'site', 'probe', '', bad);
  await until(async () => (await rollout(store, 'site', 'web-1')) !== undefined, 'rollout');
  const r = await rollout(store, 'site', 'web-1');
  assert.equal(r?.ok, false);
  assert.equal(r.revision, badRev);
  assert.match(r.error ?? '', /^pushed probe config "site": key "targets\.0\.interval": /);
  assert.equal(existsSync(apply.file('probe', 'site')), false);
  assert.deepEqual(applied, []);

  const good = { targets: [{ name: 'site', target: 'http://127.0.0.1/', module: 'http_2xx', interval: '1m' }] };
  const goodRev = await putConfig(store, 'site', 'probe', '', good);
  await until(async () => (await rollout(store, 'site', 'web-1'))?.revision === goodRev, 'rollout of the fixed one');
  assert.equal((await rollout(store, 'site', 'web-1'))?.ok, true);
  assert.deepEqual(JSON.parse(readFileSync(apply.file('probe', 'site'), 'utf8')), good);
  assert.deepEqual(applied, ['probe/site']);

  // Another bad revision keeps the good file.
  const worse = await putConfig(store, 'site', 'probe', '', { targets: 'all' });
  await until(async () => (await rollout(store, 'site', 'web-1'))?.revision === worse, 'rollout of the bad one');
  assert.deepEqual(JSON.parse(readFileSync(apply.file('probe', 'site'), 'utf8')), good);
  assert.match(await h.registry.getSingleMetricAsString('opsctl_server_config_pushes_total'), /result="failed"\} 2/);
});

test('hub: an agent that connects later gets the matching configs; what it applied is not sent again', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  const rev = await putConfig(store, 'ship-main', 'ship', 'role in (web,db)', { sources: {} });
  await putConfig(store, 'other', 'ship', 'role=cache', { sources: {} });
  const applier = new RecordingApplier();
  const first = startClient(t, { url: h.url, name: 'db-1', labels: { role: 'db' }, apply: applier });
  await until(() => applier.docs.length === 1, 'ship-main applied');
  assert.deepEqual(applier.docs[0], { name: 'ship-main', kind: 'ship', revision: rev, body: { sources: {} } });
  await until(async () => (await rollout(store, 'ship-main', 'db-1'))?.ok === true, 'rollout');
  await first.stop();

  // Same applier (its applied state survives), new link: nothing is sent again until something changes.
  const second = startClient(t, { url: h.url, name: 'db-1', labels: { role: 'db' }, apply: applier });
  await until(() => second.linked, 'linked again');
  const later = await putConfig(store, 'later', 'agent', '', {});
  await until(() => applier.docs.length === 2, 'later applied');
  assert.deepEqual(applier.docs.map((d) => [d.name, d.revision]), [['ship-main', rev], ['later', later]]);
});

test('hub: deleting a config, or a node relabelled out of its selector, sends remove', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  await putConfig(store, 'web-probes', 'probe', 'role=web', { targets: [] });
  await putConfig(store, 'all-agents', 'agent', '', {});
  const applier = new RecordingApplier();
  const client = startClient(t, { url: h.url, name: 'n1', labels: { role: 'web' }, apply: applier });
  await until(() => applier.docs.length === 2, 'both applied');
  await store.delete(configKey('all-agents'));
  await until(() => applier.removed.length === 1, 'removed');
  assert.deepEqual(applier.removed, [{ name: 'all-agents', kind: 'agent' }]);
  await client.stop();

  // Relabelled (role=db) with web-probes applied: removed on hello. Deleted while away: removed too.
  await putConfig(store, 'gone', 'ship', '', {});
  const relabelled = startClient(t, { url: h.url, name: 'n1', labels: { role: 'db' }, apply: applier });
  await until(() => applier.docs.some((d) => d.name === 'gone'), 'gone applied');
  await relabelled.stop();
  await store.delete(configKey('gone'));
  startClient(t, { url: h.url, name: 'n1', labels: { role: 'db' }, apply: applier });
  await until(() => applier.removed.length === 3, 'removed on hello');
  assert.deepEqual(applier.removed.slice(1).sort((a, b) => a.name.localeCompare(b.name)), [{ name: 'gone', kind: 'ship' }, { name: 'web-probes', kind: 'probe' }]);
  assert.deepEqual(applier.state, {});
});

test('hub: a bad token gets 401 and a token without the agent scope 403, before any upgrade', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  await assert.rejects(rawPeer(t, h.url, 'wrong'), { statusCode: 401 });
  await assert.rejects(rawPeer(t, h.url, 'read-token'), { statusCode: 403 });
  // The body is the API's error shape.
  const res = await upgradeRequest(h.port, 'read-token');
  assert.equal(res.status, 403);
  assert.deepEqual(JSON.parse(res.body), { error: { code: 'OPS_ERR_LINK_AUTH', message: 'the token lacks the "agent" scope' } });
  assert.equal((await store.range('/opsctl/')).kvs.length, 0, 'nothing registered');

  // The client keeps trying (with the token read again each time) and says why it is refused.
  const { captureLogger } = await import('./testing.ts');
  const { log, lines } = captureLogger();
  let token = 'wrong';
  const client = startClient(t, { url: h.url, name: 'late', token: () => token, log });
  await until(() => lines.some((l) => l.msg === 'link refused by the server' && l.status === 401 && l.code === 'OPS_ERR_AUTH'), 'refusal logged');
  token = 'agent-token';
  await until(() => client.linked, 'linked once the token is fixed');
});

test('hub: stop() closes the links and the agent registers with another replica on the same store', async (t) => {
  const store = await sqlite(t);
  const a = await startHub(t, store, { replica: 'replica-a' });
  const client = startClient(t, { url: a.url, name: 'n1' });
  await until(() => client.replica === 'replica-a', 'linked to a');
  await a.close();
  assert.equal(await link(store, 'n1'), undefined, 'a removed its link key before stopping');
  // The other replica takes the same address (as behind a load balancer).
  const b = await startHub(t, store, { replica: 'replica-b', port: a.port });
  await until(() => client.replica === 'replica-b', 'linked to b');
  await until(async () => (await link(store, 'n1'))?.replica === 'replica-b', 'link key of b');
  const n = await node(store, 'n1');
  assert.equal(n?.lastReplica, 'replica-b');
  assert.equal((await store.get(linkKey('n1')))?.lease, b.hub.lease?.id);
});

test('client with several replicas: a refused connect moves to the next URL; so does a lost link', async (t) => {
  const store = await sqlite(t);
  const dead = `ws://127.0.0.1:${await freePort()}`;
  const a = await startHub(t, store, { replica: 'replica-a' });
  const b = await startHub(t, store, { replica: 'replica-b' });
  // random 0: starts at the first URL (nothing listens there), zero waits.
  const client = startClient(t, { url: [dead, a.url, b.url], name: 'n1', backoff: { baseMs: 20, capMs: 200, random: () => 0 } });
  await until(() => client.replica === 'replica-a', 'linked to a after the dead one');
  await until(async () => (await link(store, 'n1'))?.replica === 'replica-a', 'link key of a');
  await a.close();
  await until(() => client.replica === 'replica-b', 'linked to b once a stopped');
  await until(async () => (await link(store, 'n1'))?.replica === 'replica-b', 'link key of b');
  await b.close();
  // Round again: the dead one, a (gone), b (gone)... until a replica is back on a's port.
  await startHub(t, store, { replica: 'replica-a2', port: a.port });
  await until(() => client.replica === 'replica-a2', 'linked to a2 on the second round');
  assert.equal((await node(store, 'n1'))?.lastReplica, 'replica-a2');
});

test('hub: revoking a replica lease removes its link keys; the hub gets a new lease and its agents register again', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  const client = startClient(t, { url: h.url, name: 'n1' });
  await until(async () => (await link(store, 'n1')) !== undefined, 'linked');
  const lease = h.hub.lease;
  assert.ok(lease);
  const from = (await store.get(linkKey('n1')))?.modRevision ?? 0;
  const deleted = (async (): Promise<WatchEvent | undefined> => {
    for await (const ev of store.watch(linkKey('n1'), { fromRevision: from + 1 })) if (ev.type === 'delete') return ev;
    return undefined;
  })();
  await lease.revoke();
  assert.equal((await deleted)?.kv.key, linkKey('n1'));
  await until(async () => { const kv = await store.get(linkKey('n1')); return kv !== undefined && kv.lease !== lease.id; }, 'registered under the new lease');
  assert.equal((await store.get(linkKey('n1')))?.lease, h.hub.lease?.id);
  assert.ok(client.linked);
});

test('hub: a newer hello for a linked node replaces the old link, on this replica and from another one', async (t) => {
  const store = await sqlite(t);
  const a = await startHub(t, store, { replica: 'replica-a' });
  const b = await startHub(t, store, { replica: 'replica-b' });
  const first = await rawPeer(t, a.url);
  first.send(hello('dup'));
  await until(() => first.messages.some((m) => m.type === 'welcome'), 'first welcomed');
  const second = await rawPeer(t, a.url);
  second.send(hello('dup'));
  assert.equal((await first.closed).code, closeCodes.replaced);
  await until(() => second.messages.some((m) => m.type === 'welcome'), 'second welcomed');
  const heartbeats = setInterval(() => { if (second.socket.readyState === WebSocket.OPEN) second.send({ type: 'heartbeat', seq: 0 }); }, 50);
  t.after(() => clearInterval(heartbeats));
  assert.equal((await link(store, 'dup'))?.replica, 'replica-a');

  const third = await rawPeer(t, b.url);
  third.send(hello('dup'));
  assert.equal((await second.closed).code, closeCodes.replaced, 'replica a closes its link once b holds the key');
  await until(async () => (await link(store, 'dup'))?.replica === 'replica-b', 'b holds the link');
  assert.equal((await node(store, 'dup'))?.lastReplica, 'replica-b', 'a did not overwrite the node when its link closed');
});

test('nodeStatus: ready with a fresh link, unknown with a stale one, not_ready without', () => {
  const n: NodeRecord = { name: 'n', labels: {}, facts: { hostname: 'h', os: 'o', kernel: 'k', arch: 'a', cpus: 1, memoryBytes: 1, agentVersion: 'v' }, firstSeen: '2025-01-01T00:00:00.000Z', lastSeen: '2025-01-01T00:05:00.000Z', lastReplica: 'r1' };
  const l: LinkRecord = { node: 'n', replica: 'r1', connectedAt: '2025-01-01T00:00:00.000Z', lastHeartbeat: '2025-01-01T00:10:00.000Z', address: '10.0.0.1' };
  assert.deepEqual(nodeStatus(n, l, new Date('2025-01-01T00:11:00.000Z')), { status: 'ready' });
  assert.deepEqual(nodeStatus(n, l, new Date('2025-01-01T00:11:31.000Z')), { status: 'unknown', reason: 'replica r1 has not refreshed the link since 2025-01-01T00:10:00.000Z' });
  assert.deepEqual(nodeStatus(n, undefined, new Date()), { status: 'not_ready', reason: 'disconnected since 2025-01-01T00:05:00.000Z' });
});

test('hub: an applied config whose ack was lost (the link dropped first) is recorded from the next hello', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store);
  const key = configKey('lost-ack');
  const revision = await store.put(key, encodeRecord(configRecordSchema, { name: 'lost-ack', kind: 'agent', selector: '', body: {}, author: 't', updatedAt: new Date().toISOString() }, key));
  const peer = await rawPeer(t, h.url);
  peer.send(hello('n-lost', {}, { 'lost-ack': revision }));
  await until(async () => (await read(store, rolloutKey('lost-ack', 'n-lost'), rolloutRecordSchema))?.revision === revision, 'the rollout recorded from hello');
  assert.equal((await read(store, rolloutKey('lost-ack', 'n-lost'), rolloutRecordSchema))?.ok, true);
  assert.ok(!peer.messages.some((m) => m.type === 'config'), 'what the agent has is not sent again');
});
