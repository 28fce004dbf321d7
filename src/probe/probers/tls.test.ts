// The tls prober against real TLS listeners on 127.0.0.1 with a CA made here: verification,
// certificate facts, expiry, server names, versions, failures, abort, and metrics.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { runProbe } from '../run-probe.ts';
import { compile } from '../../core/expr.ts';
import type { ProbeLog, ProbeOutcome, ProbeResult } from '../types.ts';
import { createTestCa, type ServerCert, type TestCa } from './testing.ts';
import { tls } from './tls.ts';

const log: ProbeLog = { debug() {}, info() {} };
const servers: Server[] = [];
const serverSockets = new Set<Socket>();
let ca: TestCa;
let leaf: ServerCert;
let target: string;

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (s: Socket) => { serverSockets.add(s); s.on('close', () => serverSockets.delete(s)); s.on('error', () => {}); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function tlsServer(options: TlsOptions): Promise<string> {
  const server = createTlsServer(options, (s) => { s.on('error', () => {}); s.end(); });
  server.on('tlsClientError', () => {});
  return listen(server);
}

before(async () => {
  ca = createTestCa();
  leaf = ca.issue();
  target = await tlsServer(leaf);
});

after(async () => {
  for (const s of serverSockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  ca.remove();
});

async function probe(to: string, over: Record<string, unknown> = {}, signal = AbortSignal.timeout(3000)): Promise<ProbeOutcome> {
  return tls.probe({ target: to, module: tls.schema.parse(over), signal, timeoutMs: 3000, log });
}

function asResult(outcome: ProbeOutcome): ProbeResult {
  return { ...outcome, target: 't', module: 'm', durationMs: 1, startedAt: Date.now() };
}

async function noServerSockets(): Promise<void> {
  for (let i = 0; i < 50 && serverSockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(serverSockets.size, 0, 'connections left open');
}

test('a verified handshake reports the chain facts', async () => {
  const out = await probe(target, { ca_file: ca.caFile });
  assert.equal(out.success, true, out.reason);
  const d = out.details;
  assert.equal(d.authorized, true);
  assert.equal(d.hostname_ok, true);
  assert.equal(d.tls_version, 'TLS 1.3');
  assert.match(String(d.cipher), /^TLS_/);
  assert.equal(d.chain_length, 3, 'leaf, intermediate, root');
  assert.equal(d.subject, 'CN=localhost,O=opsctl test');
  assert.equal(d.issuer, 'CN=opsctl test intermediate,O=opsctl test');
  assert.deepEqual(d.sans, ['localhost', '127.0.0.1']);
  const left = (leaf.notAfter.getTime() - Date.now()) / 1000;
  assert.ok(Math.abs((d.cert_expiry as number) - left) < 5);
  assert.equal(d.cert_expiry_timestamp, leaf.notAfter.getTime() / 1000);
  assert.equal(d.last_chain_expiry_timestamp, leaf.notAfter.getTime() / 1000);
  assert.equal(d.ip_protocol, 4);
  assert.deepEqual(Object.keys(out.phases), ['resolve', 'connect', 'tls']);
  await noServerSockets();
});

test('metrics: names, labels and values as blackbox reports them', async () => {
  const out = await probe(target, { ca_file: ca.caFile });
  const samples = tls.metrics(asResult(out));
  const by = (name: string) => samples.find((s) => s.name === name);
  assert.deepEqual(samples.map((s) => s.name), [
    'probe_ip_protocol', 'probe_dns_lookup_time_seconds', 'probe_ssl_earliest_cert_expiry', 'probe_ssl_last_chain_expiry_timestamp_seconds',
    'probe_tls_version_info', 'probe_tls_cipher_info', 'probe_ssl_last_chain_info',
  ]);
  assert.equal(by('probe_ssl_earliest_cert_expiry')?.value, leaf.notAfter.getTime() / 1000);
  assert.deepEqual(by('probe_tls_version_info')?.labels, { version: 'TLS 1.3' });
  const fingerprint = new X509Certificate(leaf.cert).fingerprint256.replaceAll(':', '').toLowerCase();
  assert.deepEqual(by('probe_ssl_last_chain_info')?.labels, {
    fingerprint_sha256: fingerprint, subject: 'CN=localhost,O=opsctl test', issuer: 'CN=opsctl test intermediate,O=opsctl test', subjectalternative: 'localhost',
  });
  assert.equal(by('probe_ssl_last_chain_info')?.value, 1);
});

test('an unknown CA fails with a reason but still reports expiry; insecure_skip_verify passes', async () => {
  const out = await probe(target);
  assert.equal(out.success, false);
  assert.equal(out.reason, 'certificate signed by unknown authority');
  assert.equal(out.details.authorized, false);
  assert.equal(typeof out.details.cert_expiry, 'number');
  assert.equal(out.details.last_chain_expiry, undefined, 'no verified chain');
  assert.ok(!tls.metrics(asResult(out)).some((s) => s.name === 'probe_ssl_last_chain_expiry_timestamp_seconds'));
  const insecure = await probe(target, { insecure_skip_verify: true });
  assert.equal(insecure.success, true, insecure.reason);
  assert.equal(insecure.details.authorized, false);
  assert.equal(insecure.details.hostname_ok, true);
  await noServerSockets();
});

test('a name the certificate does not cover fails hostname verification', async () => {
  const out = await probe(target, { ca_file: ca.caFile, server_name: 'db.example' });
  assert.equal(out.reason, 'certificate is not valid for db.example');
  assert.equal(out.details.hostname_ok, false);
  const byName = await probe(target.replace('127.0.0.1', 'localhost'), { ca_file: ca.caFile, ip_protocol: 'ip4' });
  assert.equal(byName.success, true, byName.reason);
});

test('expired and soon-expiring certificates: the sign of cert_expiry, and a condition on it', async () => {
  const expired = await tlsServer(ca.issue({ notBefore: new Date(Date.now() - 30 * 86_400_000), notAfter: new Date(Date.now() - 3_600_000) }));
  const out = await probe(expired, { ca_file: ca.caFile });
  assert.equal(out.reason, 'certificate has expired');
  assert.ok((out.details.cert_expiry as number) < 0 && (out.details.cert_expiry as number) > -3_700);
  const soon = await tlsServer(ca.issue({ notAfter: new Date(Date.now() + 86_400_000) }));
  const run = await runProbe({
    prober: tls, moduleName: 'cert', settings: tls.schema.parse({ ca_file: ca.caFile }), target: soon, timeoutMs: 3000,
    conditions: [compile('cert_expiry > 14d')],
  });
  assert.equal(run.reason, 'condition failed: cert_expiry > 14d');
  const ok = await runProbe({
    prober: tls, moduleName: 'cert', settings: tls.schema.parse({ ca_file: ca.caFile }), target, timeoutMs: 3000,
    conditions: [compile('cert_expiry > 14d && authorized && tls_version == "TLS 1.3"')],
  });
  assert.equal(ok.success, true, ok.reason);
});

test('min_version above what the server speaks fails the handshake', async () => {
  const old = await tlsServer({ ...leaf, maxVersion: 'TLSv1.2' });
  const out = await probe(old, { ca_file: ca.caFile, min_version: 'TLS13' });
  assert.equal(out.success, false);
  assert.match(out.reason ?? '', /^TLS handshake with 127\.0\.0\.1:\d+: /);
  const twelve = await probe(old, { ca_file: ca.caFile });
  assert.equal(twelve.details.tls_version, 'TLS 1.2');
});

test('refused, not TLS, and a server that never handshakes', async () => {
  const closed = createNetServer();
  const port = (await listen(closed)).split(':')[1];
  await new Promise((r) => closed.close(r));
  assert.equal((await probe(`127.0.0.1:${port}`)).reason, `connection refused (127.0.0.1:${port})`);

  const plain = await listen(createNetServer((s) => { s.resume(); s.end('HTTP/1.1 400 Bad Request\r\n\r\n'); }));
  const notTls = await probe(plain);
  assert.equal(notTls.success, false);
  assert.match(notTls.reason ?? '', /^TLS handshake with /);

  const silent = await listen(createNetServer((s) => { s.resume(); /* reads (to see the close), never speaks */ }));
  const started = performance.now();
  const hung = await probe(silent, {}, AbortSignal.timeout(200));
  assert.ok(performance.now() - started < 1000);
  assert.match(hung.reason ?? '', /^timed out in the TLS handshake with 127\.0\.0\.1:\d+$/);
  await noServerSockets();
  assert.equal((await probe('no-port-here:x')).success, false);
});

test('schema: strict keys, min_version spelled as blackbox does', () => {
  assert.equal(tls.schema.safeParse({ insecure: true }).success, false);
  assert.equal(tls.schema.safeParse({ min_version: 'TLSv1.2' }).success, false);
  assert.deepEqual(tls.schema.parse({}), { insecure_skip_verify: false, ip_protocol: 'auto' });
});
