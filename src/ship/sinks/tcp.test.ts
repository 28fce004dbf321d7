import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliveryError } from '../../core/retry.ts';
import { createTestCa } from '../../probe/probers/testing.ts';
import { entry, testContext } from '../testing.ts';
import { tcp, type TcpWriter } from './tcp.ts';

/** A receiver on 127.0.0.1:0 keeping what each connection sent. */
async function receiver(make: (onConn: (s: Socket) => void) => Server = (h) => createServer(h)) {
  const connections: Array<{ socket: Socket; data: string }> = [];
  const server = make((socket) => {
    const conn = { socket, data: '' };
    connections.push(conn);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { conn.data += d; });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connections, port,
    text: () => connections.map((c) => c.data).join(''),
    close: () => new Promise<void>((resolve) => {
      for (const c of connections) c.socket.destroy();
      server.close(() => { resolve(); });
    }),
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function writer(config: Record<string, unknown>): TcpWriter {
  return tcp.create(tcp.schema.parse({ type: 'tcp', ...config }), testContext('collector', 'sink')) as TcpWriter;
}

const signal = new AbortController().signal;

test('writes NDJSON lines on one connection', async (t) => {
  const srv = await receiver();
  t.after(srv.close);
  const w = writer({ address: `127.0.0.1:${srv.port}` });
  t.after(() => w.close());
  const batch = [entry('one'), entry('two', { fields: { a: 1 } })];
  await w.write(batch, signal);
  await w.write([entry('three')], signal);
  const expected = [...batch.map((e) => JSON.stringify(e)), ''];
  await until('the lines', () => srv.text().split('\n').length >= 4);
  const lines = srv.text().split('\n');
  assert.deepEqual(lines.slice(0, 2), expected.slice(0, 2));
  assert.equal((JSON.parse(lines[2] ?? '') as { message: string }).message, 'three');
  assert.equal(srv.connections.length, 1);
  assert.equal(w.lastBytes, Buffer.byteLength(lines[2] ?? '') + 1);
});

test('text encoding sends messages only', async (t) => {
  const srv = await receiver();
  t.after(srv.close);
  const w = writer({ address: `127.0.0.1:${srv.port}`, encoding: 'text' });
  t.after(() => w.close());
  await w.write([entry('alpha'), entry('beta')], signal);
  await until('the lines', () => srv.text() === 'alpha\nbeta\n');
});

test('reconnects on the next write after the server dropped the connection', async (t) => {
  const srv = await receiver();
  t.after(srv.close);
  const w = writer({ address: `127.0.0.1:${srv.port}`, encoding: 'text' });
  t.after(() => w.close());
  await w.write([entry('first')], signal);
  await until('the first line', () => srv.text() === 'first\n');
  srv.connections[0]?.socket.destroy();
  await until('the writer to see the close', () => !w.connected);
  await w.write([entry('second')], signal);
  await until('a second connection with the line', () => srv.connections[1]?.data === 'second\n');
});

test('connection refused is retryable', async (t) => {
  const srv = await receiver();
  const port = srv.port;
  await srv.close();
  const w = writer({ address: `127.0.0.1:${port}` });
  t.after(() => w.close());
  await assert.rejects(w.write([entry('x')], signal), (err: unknown) => {
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.retryable, true);
    assert.equal(err.details.error, 'ECONNREFUSED');
    return true;
  });
  assert.equal(w.connected, false);
});

test('TLS with the CA from tls.ca_file; an unknown CA is a retryable failure', async (t) => {
  const ca = createTestCa();
  t.after(() => { ca.remove(); });
  const leaf = ca.issue();
  const srv = await receiver((h) => createTlsServer({ key: leaf.key, cert: leaf.cert }, h));
  t.after(srv.close);
  const w = writer({ address: `127.0.0.1:${srv.port}`, encoding: 'text', tls: { enabled: true, ca_file: ca.caFile, server_name: 'localhost' } });
  t.after(() => w.close());
  await w.write([entry('secret')], signal);
  await until('the line', () => srv.text() === 'secret\n');

  const untrusting = writer({ address: `127.0.0.1:${srv.port}`, tls: { enabled: true } });
  t.after(() => untrusting.close());
  await assert.rejects(untrusting.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && err.retryable);
  assert.equal(untrusting.connected, false);
});

test('a write to a peer that does not read times out', async (t) => {
  // The receiver never reads: the kernel buffers fill up and the write callback never comes.
  const sockets: Socket[] = [];
  const server = createServer((s) => { sockets.push(s); s.pause(); s.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => { resolve(); });
  }));
  const w = writer({ address: `127.0.0.1:${(server.address() as AddressInfo).port}`, request_timeout: '300ms', encoding: 'text' });
  t.after(() => w.close());
  const big = Array.from({ length: 2000 }, () => entry('x'.repeat(10_000)));
  await assert.rejects(w.write(big, signal), (err: unknown) => err instanceof DeliveryError && err.retryable && err.message === 'timeout');
  assert.equal(w.connected, false);
});

test('the schema wants host:port', () => {
  assert.equal(tcp.schema.safeParse({ type: 'tcp', address: 'localhost' }).success, false);
  assert.equal(tcp.schema.safeParse({ type: 'tcp', address: ':5140' }).success, false);
  assert.deepEqual(tcp.schema.parse({ type: 'tcp', address: '[::1]:5140' }).address, { host: '::1', port: 5140 });
});
