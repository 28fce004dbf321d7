import { test } from 'node:test';
import { pino } from 'pino';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliveryError } from '../../core/retry.ts';
import { createTestCa } from '../../probe/probers/testing.ts';
import { Ack } from '../ack.ts';
import { MemoryBuffer } from '../buffer/memory.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import type { LogEntry } from '../types.ts';
import { SinkRunner } from './runner.ts';
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

/**
 * A receiver whose connections can stop reading: all at once, and each new one while paused.
 * `reads` holds what it read, chunk by chunk, in the order read across connections.
 */
async function pausableReceiver(t: { after(fn: () => unknown): void }, make: (onConn: (s: Socket) => void) => Server = (h) => createServer(h)) {
  let paused = false;
  const reads: Array<{ connection: number; data: string }> = [];
  let accepted = 0;
  const srv = await receiver((onConn) => make((s) => {
    onConn(s);
    const connection = accepted++;
    s.on('data', (data: string) => { reads.push({ connection, data }); });
    if (paused) s.pause();
  }));
  t.after(srv.close);
  return {
    srv, reads,
    /** Stops reading every connection, present and future. */
    pause(): void { paused = true; for (const c of srv.connections) c.socket.pause(); },
    /** Reads every connection again. */
    resume(): void { paused = false; for (const c of srv.connections) c.socket.resume(); },
    /** Reads connections accepted from now on; those paused stay paused. */
    readNew(): void { paused = false; },
  };
}

/**
 * Writes `entries`, again after each failure while the previous connection drains (or when what
 * is left of an attempt after the wait is too short to connect and write); resolves to the failures.
 */
async function writeOnceDrained(w: TcpWriter, entries: LogEntry[]): Promise<number> {
  for (let failures = 0; failures < 100; failures++) {
    try {
      await w.write(entries, signal);
      return failures;
    } catch (err) {
      assert.ok(err instanceof DeliveryError && err.retryable);
      assert.ok(err.details.error === 'draining' || err.details.error === 'timeout', err.message);
    }
  }
  return assert.fail('still draining after 100 attempts');
}

for (const tls of [false, true]) test(`a write after a timeout waits for the previous connection to drain, then goes on a new one${tls ? ' (TLS)' : ''}`, async (t) => {
  let rx: Awaited<ReturnType<typeof pausableReceiver>>;
  let tlsConfig = {};
  if (tls) {
    const ca = createTestCa();
    t.after(() => { ca.remove(); });
    const leaf = ca.issue();
    rx = await pausableReceiver(t, (h) => createTlsServer({ key: leaf.key, cert: leaf.cert }, h));
    tlsConfig = { tls: { enabled: true, ca_file: ca.caFile, server_name: 'localhost' } };
  } else {
    rx = await pausableReceiver(t);
  }
  const w = writer({ address: `127.0.0.1:${rx.srv.port}`, request_timeout: '300ms', encoding: 'text', ...tlsConfig });
  t.after(() => w.close());
  await w.write([entry('first')], signal);
  await until('the first line', () => rx.srv.text() === 'first\n');
  rx.pause();
  // Bigger than the socket buffers of both ends: the write cannot complete while the receiver does not read.
  const big = Array.from({ length: 4000 }, (_, i) => entry(`${String(i).padStart(5, '0')} ${'x'.repeat(10_000)}`));
  await assert.rejects(w.write(big, signal), (err: unknown) => err instanceof DeliveryError && err.retryable);
  assert.equal(w.connected, false);
  assert.equal(w.draining, true);
  // While the old connection holds unread lines, no other connection carries any.
  await assert.rejects(w.write([entry('next')], signal), (err: unknown) => {
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.retryable, true);
    assert.equal(err.details.error, 'draining');
    return true;
  });
  assert.equal(rx.srv.connections.length, 1);
  rx.resume();
  await writeOnceDrained(w, [entry('next')]);
  await until('the line on a new connection', () => rx.srv.connections.slice(1).some((c) => c.data === 'next\n'));
  for (const c of rx.srv.connections.slice(1)) assert.match(c.data, /^(next\n)*$/);
  assert.equal(w.draining, false);
  // The first connection carried the whole big batch, ending with a whole line.
  const first = rx.srv.connections[0]?.data ?? '';
  assert.equal(first, ['first', ...big.map((e) => e.message), ''].join('\n'));
});

test('after drain_timeout a connection that is never read is abandoned and the next write reconnects', async (t) => {
  const rx = await pausableReceiver(t);
  const warnings: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(JSON.parse(line) as Record<string, unknown>); } });
  const w = tcp.create(tcp.schema.parse({ type: 'tcp', address: `127.0.0.1:${rx.srv.port}`, request_timeout: '300ms', drain_timeout: '1s', encoding: 'text' }),
    testContext('collector', 'sink', { log })) as TcpWriter;
  t.after(() => w.close());
  rx.pause();
  const big = Array.from({ length: 4000 }, () => entry('x'.repeat(10_000)));
  await assert.rejects(w.write(big, signal), (err: unknown) => err instanceof DeliveryError && err.retryable);
  // The receiver keeps its first connection unread; it reads the ones that follow.
  rx.readNew();
  const failures = await writeOnceDrained(w, [entry('after')]);
  assert.ok(failures >= 1, 'the writes waited for drain_timeout');
  await until('the line on a new connection', () => rx.srv.connections.slice(1).some((c) => c.data === 'after\n'));
  for (const c of rx.srv.connections.slice(1)) assert.match(c.data, /^(after\n)*$/);
  assert.ok(warnings.some((l) => l.msg === 'abandoned a connection the receiver did not read: its lines may arrive after later ones'));
});

test('a receiver that stops reading for longer than request_timeout: every line arrives, first arrivals in order, whole lines only', async (t) => {
  const rx = await pausableReceiver(t);
  const ctx = testContext('collector', 'sink');
  const batchEvents = 1000;
  const buffer = new MemoryBuffer({ sink: 'collector', maxEvents: 1e6, maxBytes: 1 << 30, whenFull: 'block', metrics: ctx.metrics, log: ctx.log });
  const writer = tcp.create(tcp.schema.parse({ type: 'tcp', address: `127.0.0.1:${rx.srv.port}`, request_timeout: '500ms', encoding: 'text' }), ctx);
  const runner = new SinkRunner({
    name: 'collector', writer, buffer, batch: { max_events: batchEvents, max_bytes: 1 << 20, timeout: 10 },
    retry: { max_retries: undefined, initial_backoff: 50, max_backoff: 200 }, requestTimeoutMs: 500,
    log: ctx.log, metrics: ctx.metrics, counters: ctx.counters, deadLetter: ctx.deadLetter,
  });
  t.after(() => runner.close());
  // 250,000 lines of 100 bytes: 25 MB, more than the socket buffers of both ends hold.
  const total = 250_000;
  const lineLength = 100;
  let acked = 0;
  for (let start = 0; start < total; start += batchEvents) {
    const entries = Array.from({ length: batchEvents }, (_, i) => entry(`seq=${String(start + i).padStart(7, '0')} `.padEnd(lineLength, 'x')));
    await runner.push(entries, new Ack(() => { acked += batchEvents; }));
  }
  rx.pause();
  runner.start();
  const retries = async (): Promise<number> => await metricValue(ctx.registry, 'opsctl_ship_sink_retries_total', { sink: 'collector' }) ?? 0;
  for (let i = 0; i < 1000 && await retries() < 1; i++) await sleep(10);
  assert.ok(await retries() >= 1, 'the stall made an attempt time out');
  // Stalled for four request timeouts more: with a new connection per attempt, each would get its share.
  await sleep(2000);
  rx.resume();
  await until('every batch acknowledged', () => acked === total);

  // Each connection, line by line; every line read is recorded in the order read.
  const rest = new Map<number, string>();
  const arrivals: number[] = [];
  const bad: string[] = [];
  const seen = new Set<number>();
  const deadline = Date.now() + 15_000;
  let next = 0;
  while (seen.size < total) {
    for (; next < rx.reads.length; next++) {
      const { connection, data } = rx.reads[next] as { connection: number; data: string };
      const lines = ((rest.get(connection) ?? '') + data).split('\n');
      rest.set(connection, lines.pop() ?? '');
      for (const line of lines) {
        const m = /^seq=(\d{7}) x+$/.exec(line);
        if (m && line.length === lineLength) {
          arrivals.push(Number(m[1]));
          seen.add(Number(m[1]));
        } else bad.push(`connection ${connection}: ${line.slice(0, 30)}`);
      }
    }
    if (Date.now() > deadline) assert.fail(`timed out: ${seen.size} of ${total} lines received`);
    await sleep(20);
  }
  assert.deepEqual(bad.slice(0, 5), [], 'part of a line');
  assert.deepEqual([...rest].filter(([, r]) => r !== ''), [], 'a connection ended within a line');
  let latest = -1;
  const first = new Set<number>();
  const late: string[] = [];
  for (const s of arrivals) {
    if (first.has(s)) continue;
    first.add(s);
    if (s < latest && late.length < 5) late.push(`${s} after ${latest}`);
    latest = Math.max(latest, s);
  }
  assert.deepEqual(late, [], 'lines that first arrived after a later line');
  const connections = rx.srv.connections.length;
  assert.ok(connections >= 2, 'the stall made the writer reconnect');
  const duplicates = arrivals.length - first.size;
  assert.ok(duplicates <= (connections - 1) * batchEvents, `${duplicates} duplicates over ${connections} connections`);
});
