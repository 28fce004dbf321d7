import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { agentMessageSchema, closeCodes, closeReason, parseMessage, serverMessageSchema } from './protocol.ts';
import { hello, rawPeer, startHub, testFacts, until } from './testing.ts';

const max = 1024;
const parse = (message: unknown): ReturnType<typeof parseMessage<typeof agentMessageSchema>> =>
  parseMessage(agentMessageSchema, Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), false, max);
const parseServer = (message: unknown): ReturnType<typeof parseMessage<typeof serverMessageSchema>> =>
  parseMessage(serverMessageSchema, JSON.stringify(message), false, max);

async function sqlite(t: TestContext): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-link-'));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  return store;
}

test('protocol: agent messages parse; unknown fields are ignored', () => {
  const h = parse({ ...hello('web-1', { role: 'web' }, { probes: 7 }), extra: 1 });
  assert.ok(h.ok && h.message.type === 'hello');
  assert.deepEqual(h.message, { type: 'hello', name: 'web-1', labels: { role: 'web' }, facts: testFacts('web-1'), version: '0.1.0', applied: { probes: 7 } });
  assert.deepEqual(parse({ type: 'heartbeat', seq: 3 }), { ok: true, message: { type: 'heartbeat', seq: 3 } });
  assert.deepEqual(parse({ type: 'ack', config: 'probes', revision: 7, ok: false, error: 'bad' }), { ok: true, message: { type: 'ack', config: 'probes', revision: 7, ok: false, error: 'bad' } });
  assert.deepEqual(parse({ type: 'ack', config: 'probes', revision: 7, ok: true }), { ok: true, message: { type: 'ack', config: 'probes', revision: 7, ok: true } });
});

test('protocol: server messages parse', () => {
  for (const m of [
    { type: 'welcome', replica: 'r1', heartbeatSeconds: 10 },
    { type: 'config', name: 'probes', kind: 'probe', revision: 4, body: { targets: [] } },
    { type: 'remove', name: 'probes', kind: 'probe' },
    { type: 'remove', name: 'probes' },
    { type: 'error', code: 'OPS_ERR_LINK_PROTOCOL', message: 'x' },
  ]) assert.deepEqual(parseServer(m), { ok: true, message: m });
  assert.equal(parseServer({ type: 'config', name: 'p', kind: 'cron', revision: 1, body: {} }).ok, false);
});

test('protocol: bad messages are refused with the close code to answer', () => {
  const refused = (r: ReturnType<typeof parse>): { code: number; reason: string } => {
    assert.ok(!r.ok);
    return { code: r.code, reason: r.reason };
  };
  assert.deepEqual(refused(parse('{nope')), { code: closeCodes.invalidPayload, reason: 'not JSON' });
  assert.equal(refused(parse({ type: 'launch', at: 'moon' })).code, closeCodes.policy);
  assert.equal(refused(parse({ seq: 1 })).reason, 'no message type');
  assert.match(refused(parse({ type: 'heartbeat', seq: -1 })).reason, /^heartbeat: seq: /);
  assert.match(refused(parse({ ...hello('../etc'), type: 'hello' })).reason, /^hello: name: expected a name/);
  assert.match(refused(parse(hello('n', { 'bad key!': 'x' }))).reason, /^hello: labels\.bad key!: /);
  assert.match(refused(parse({ type: 'ack', config: 'c', revision: 0, ok: true })).reason, /^ack: revision: /);
  assert.equal(refused(parse({ type: 'heartbeat', seq: 1, pad: 'x'.repeat(max) })).code, closeCodes.tooBig);
  const binary = parseMessage(agentMessageSchema, Buffer.from('{}'), true, max);
  assert.ok(!binary.ok && binary.code === closeCodes.invalidPayload);
  assert.equal(Buffer.byteLength(closeReason('é'.repeat(100))), 122);
});

test('protocol: the hub closes a link on bad frames with a code and a log line, and keeps serving', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store, { maxMessageBytes: 4096, heartbeatSeconds: 10 });
  const cases: Array<[string, (p: Awaited<ReturnType<typeof rawPeer>>) => void, number]> = [
    ['not JSON', (p) => p.send('{"type": "hello", '), closeCodes.invalidPayload],
    ['binary', (p) => p.socket.send(Buffer.from('{}'), { binary: true }), closeCodes.invalidPayload],
    ['unknown type', (p) => p.send({ type: 'exec', argv: ['rm', '-rf', '/'] }), closeCodes.policy],
    ['invalid hello', (p) => p.send({ ...hello('n'), facts: {} }), closeCodes.policy],
    ['heartbeat before hello', (p) => p.send({ type: 'heartbeat', seq: 0 }), closeCodes.policy],
    ['oversized', (p) => p.send({ type: 'heartbeat', seq: 0, pad: 'x'.repeat(8192) }), closeCodes.tooBig],
    ['hello twice', (p) => { p.send(hello('twice')); p.send(hello('twice')); }, closeCodes.policy],
  ];
  for (const [what, send, code] of cases) {
    const peer = await rawPeer(t, h.url);
    send(peer);
    assert.equal((await peer.closed).code, code, what);
  }
  const rejected = h.lines.filter((l) => l.msg === 'link message rejected');
  assert.ok(rejected.length >= 6, JSON.stringify(h.lines));
  assert.ok(rejected.every((l) => typeof l.reason === 'string'));
  assert.ok(rejected.some((l) => l.code === closeCodes.tooBig), 'the oversized message is logged');
  // Still serving: a good hello is welcomed.
  const good = await rawPeer(t, h.url);
  good.send(hello('good'));
  await until(() => good.messages.some((m) => m.type === 'welcome'), 'welcome');
  const metrics = await h.registry.getSingleMetricAsString('opsctl_server_link_messages_total');
  assert.match(metrics, /opsctl_server_link_messages_total\{direction="in",type="invalid"\} 5/);
  assert.match(metrics, /opsctl_server_link_messages_total\{direction="out",type="welcome"\} [1-9]/);
});

test('protocol: a link that never says hello, or stops its heartbeats, is closed', async (t) => {
  const store = await sqlite(t);
  const h = await startHub(t, store, { heartbeatSeconds: 0.1 });
  const silent = await rawPeer(t, h.url);
  assert.equal((await silent.closed).code, closeCodes.helloTimeout);
  const quiet = await rawPeer(t, h.url);
  quiet.send(hello('quiet'));
  assert.equal((await quiet.closed).code, closeCodes.heartbeatTimeout);
  assert.ok(quiet.messages.some((m) => m.type === 'welcome'));
});
