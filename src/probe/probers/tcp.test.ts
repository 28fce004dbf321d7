// The tcp prober against real listeners on 127.0.0.1: connect, refused, query_response, TLS, STARTTLS, abort.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { tcp } from './tcp.ts';
import { expand } from './query-response.ts';
import type { ProbeLog, ProbeResult } from '../types.ts';

const certFile = new URL('testdata/localhost.crt', import.meta.url).pathname;
const cert = readFileSync(certFile);
const key = readFileSync(new URL('testdata/localhost.key', import.meta.url));
const log: ProbeLog = { debug() {}, info() {} };
const servers: Server[] = [];
const open = new Set<Socket>();

after(async () => {
  for (const s of [...open].reverse()) s.destroy(); // TLS sockets before the sockets under them
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A line server: `reply(line)` returns the lines to answer with, or null to hang up. */
async function lineServer(banner: string | undefined, reply: (line: string, socket: Socket) => string[] | null | 'starttls'): Promise<number> {
  const server = createServer((socket) => serveLines(socket, banner, reply));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function serveLines(socket: Socket, banner: string | undefined, reply: (line: string, socket: Socket) => string[] | null | 'starttls'): void {
  open.add(socket);
  socket.on('close', () => open.delete(socket));
  socket.on('error', () => {});
  if (banner !== undefined) socket.write(`${banner}\r\n`);
  const rl = createInterface({ input: socket });
  rl.on('line', (line) => {
    const answer = reply(line, socket);
    if (answer === 'starttls') {
      rl.close();
      socket.write('220 go ahead\r\n');
      const secure = new TLSSocket(socket, { isServer: true, key, cert });
      serveLines(secure, undefined, reply);
    } else if (answer === null) socket.end();
    else for (const l of answer) socket.write(`${l}\r\n`);
  });
}

const redis = (line: string): string[] | null => (line === 'PING' ? ['+PONG'] : null);

function settings(over: Record<string, unknown> = {}) {
  return tcp.schema.parse(over);
}

async function probe(target: string, over: Record<string, unknown> = {}, signal = AbortSignal.timeout(2000)) {
  return tcp.probe({ target, module: settings(over), signal, timeoutMs: 2000, log });
}

function asResult(outcome: Awaited<ReturnType<typeof probe>>): ProbeResult {
  return { ...outcome, target: 't', module: 'm', durationMs: 1, startedAt: Date.now() };
}

test('connects and reports the resolve and connect phases', async () => {
  const port = await lineServer(undefined, redis);
  const out = await probe(`127.0.0.1:${port}`);
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.connected, true);
  assert.equal(out.details.ip_protocol, 4);
  assert.equal(typeof out.phases.connect, 'number');
  const metrics = tcp.metrics(asResult(out));
  assert.deepEqual(metrics.map((m) => [m.name, m.value]), [['probe_ip_protocol', 4], ['probe_dns_lookup_time_seconds', 0], ['probe_failed_due_to_regex', 0]]);
});

test('a refused port fails with a short reason', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  const out = await probe(`127.0.0.1:${port}`);
  assert.equal(out.success, false);
  assert.equal(out.reason, `connect to 127.0.0.1:${port}: connection refused`);
  assert.equal(out.details.connected, false);
});

test('bad targets and unresolvable names fail without throwing', async () => {
  assert.match((await probe('no-port')).reason ?? '', /missing port/);
  assert.match((await probe('host.invalid:80')).reason ?? '', /^resolve host\.invalid: /);
  assert.match((await probe('127.0.0.1:80', { ip_protocol: 'ip6' })).reason ?? '', /not an ip6 address/);
});

test('query_response: send, expect, banner', async () => {
  const port = await lineServer('+OK redis ready', redis);
  const out = await probe(`127.0.0.1:${port}`, { query_response: [{ expect: '^\\+OK' }, { send: 'PING' }, { expect: '^\\+PONG' }] });
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.banner, '+OK redis ready');
  assert.equal(out.details.failed_due_to_regex, false);
});

test('query_response: an expect that never matches fails with the last line seen', async () => {
  const erring = await lineServer(undefined, () => ['-ERR unknown command']);
  const open = await probe(`127.0.0.1:${erring}`, { query_response: [{ send: 'PING\r\n' }, { expect: '^\\+PONG' }] }, AbortSignal.timeout(300));
  assert.equal(open.success, false);
  assert.equal(open.reason, 'timed out waiting for /^\\+PONG/ (last line "-ERR unknown command")');
  const hangup = await lineServer(undefined, redis);
  const eof = await probe(`127.0.0.1:${hangup}`, { query_response: [{ send: 'HELLO' }, { expect: '^\\+PONG' }] });
  assert.equal(eof.reason, 'expected /^\\+PONG/, got end of stream');
  const closing = await lineServer(undefined, (line, socket) => { socket.end(`-ERR unknown command '${line}'\r\n`); return []; });
  const bad = await probe(`127.0.0.1:${closing}`, { query_response: [{ send: 'HELLO' }, { expect: '^\\+PONG' }] });
  assert.equal(bad.reason, 'expected /^\\+PONG/, got "-ERR unknown command \'HELLO\'"');
  assert.equal(bad.details.failed_due_to_regex, true);
  assert.equal(tcp.metrics(asResult(bad)).find((m) => m.name === 'probe_failed_due_to_regex')?.value, 1);
});

test('query_response: send uses the groups of the last match', async () => {
  const port = await lineServer('HELLO token=abc123', (line) => (line === 'AUTH abc123' ? ['OK'] : ['NO']));
  const named = await probe(`127.0.0.1:${port}`, { query_response: [{ expect: '^HELLO token=(?<tok>\\w+)', send: 'AUTH ${tok}' }, { expect: '^OK$' }] });
  assert.equal(named.success, true, named.reason);
  const numbered = await probe(`127.0.0.1:${port}`, { query_response: [{ expect: '^HELLO token=(\\w+)', send: 'AUTH ${1}' }, { expect: '^OK$' }] });
  assert.equal(numbered.success, true, numbered.reason);
  const wrong = await probe(`127.0.0.1:${port}`, { query_response: [{ expect: '^HELLO', send: 'AUTH ${1}' }, { expect: '^OK$' }] }, AbortSignal.timeout(300));
  assert.equal(wrong.success, false);
  assert.equal(expand('a $1 ${2} $$ $x', /(b)(c)/.exec('bc')), 'a b c $ ');
});

test('an aborted probe closes its connection', async () => {
  let serverSide: Socket | undefined;
  const port = await lineServer(undefined, redis);
  const server = servers.at(-1) as Server;
  server.once('connection', (s: Socket) => { serverSide = s; });
  const controller = new AbortController();
  const pending = probe(`127.0.0.1:${port}`, { query_response: [{ expect: '^never' }] }, controller.signal);
  setTimeout(() => controller.abort(), 100);
  const out = await pending;
  assert.equal(out.success, false);
  assert.equal(out.reason, 'cancelled');
  assert.ok(serverSide);
  if (!serverSide.closed) await once(serverSide, 'close');
});

async function tlsServer(): Promise<number> {
  const server = createTlsServer({ key, cert }, (socket) => serveLines(socket, '+OK tls', redis));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

test('tls: version and certificate expiry, verified against ca_file or skipped', async () => {
  const port = await tlsServer();
  const skip = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { insecure_skip_verify: true }, query_response: [{ send: 'PING' }, { expect: '^\\+PONG' }] });
  assert.equal(skip.success, true, skip.reason);
  assert.equal(skip.details.tls_version, 'TLS 1.3');
  assert.equal(skip.details.banner, '+OK tls');
  const expiry = skip.details.cert_expiry as number;
  assert.ok(expiry > 90 * 365 * 86400, `cert_expiry ${expiry}`);
  const names = tcp.metrics(asResult(skip)).map((m) => m.name);
  assert.ok(names.includes('probe_ssl_earliest_cert_expiry') && names.includes('probe_tls_version_info'));

  const verified = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { ca_file: certFile, server_name: 'localhost' } });
  assert.equal(verified.success, true, verified.reason);
  const byIp = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { ca_file: certFile } });
  assert.equal(byIp.success, true, byIp.reason);
  const wrongName = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { ca_file: certFile, server_name: 'example.com' } });
  assert.match(wrongName.reason ?? '', /^TLS handshake with .*: Hostname\/IP does not match/);
  const untrusted = await probe(`127.0.0.1:${port}`, { tls: true });
  assert.match(untrusted.reason ?? '', /self-signed certificate/);
  const missing = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { ca_file: '/nonexistent/ca.pem' } });
  assert.match(missing.reason ?? '', /^read ca_file \/nonexistent\/ca\.pem: /);
});

test('starttls upgrades mid-dialogue', async () => {
  const port = await lineServer('220 smtp ready', (line) => (line === 'STARTTLS' ? 'starttls' : line === 'PING' ? ['+PONG'] : null));
  const out = await probe(`127.0.0.1:${port}`, {
    tls_config: { insecure_skip_verify: true },
    query_response: [{ expect: '^220 ' }, { send: 'STARTTLS' }, { expect: '^220 go', starttls: true }, { send: 'PING' }, { expect: '^\\+PONG' }],
  });
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.tls_version, 'TLS 1.3');
  assert.equal(out.details.banner, '220 smtp ready');
});

test('config: unknown keys and bad regular expressions are errors', () => {
  assert.throws(() => tcp.schema.parse({ tls: true, nope: 1 }));
  assert.throws(() => tcp.schema.parse({ query_response: [{ expect: '(' }] }), /invalid regular expression/);
  assert.throws(() => tcp.schema.parse({ query_response: [{ expect: 'x', oops: true }] }));
});
