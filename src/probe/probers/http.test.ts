// The http prober against real listeners on 127.0.0.1: statuses, redirects, bodies, headers, auth,
// HTTPS with a CA made here, timeouts, failures, conditions through runProbe, and metrics.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compile } from '../../core/expr.ts';
import { moduleSchema, splitModule } from '../config.ts';
import { runProbe } from '../run-probe.ts';
import type { ProbeLog, ProbeOutcome, ProbeResult } from '../types.ts';
import { http } from './http.ts';
import { createTestCa, type TestCa } from './testing.ts';

const log: ProbeLog = { debug() {}, info() {} };
const servers: Server[] = [];
const serverSockets = new Set<Socket>();
let ca: TestCa;
let base: string;

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  let m: RegExpExecArray | null;
  if (path === '/ok') { res.setHeader('Content-Type', 'text/plain'); res.end('hello'); }
  else if ((m = /^\/status\/(\d+)$/.exec(path))) { res.statusCode = Number(m[1]); res.end(); }
  else if ((m = /^\/redirect\/(\d+)$/.exec(path))) {
    const n = Number(m[1]);
    res.writeHead(302, { Location: n === 0 ? '/ok' : `/redirect/${n - 1}` }).end();
  } else if (path === '/loop') res.writeHead(302, { Location: '/loop' }).end();
  else if (path === '/to') res.writeHead(Number(url.searchParams.get('code') ?? 302), { Location: url.searchParams.get('url') ?? '/' }).end();
  else if (path === '/json') res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end(JSON.stringify({ status: 'UP', checks: { db: 'ok' } }));
  else if (path === '/echo') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ method: req.method, headers: req.headers, body })));
  } else if (path === '/big') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const pump = (): void => {
      while (sent < 4 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
  } else if (path === '/gzip') res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' }).end(gzipSync('all systems nominal '.repeat(100)));
  else if (path === '/hang') { /* never answers */ }
  else if (path === '/stall') { res.writeHead(200, { 'Content-Length': '100' }); res.write('partial'); }
  else { res.statusCode = 404; res.end(); }
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => { serverSockets.add(s); s.on('close', () => serverSockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function httpsServer(cert: { key: string; cert: string }): Promise<string> {
  return `https://127.0.0.1:${await listen(createHttpsServer(cert, route))}`;
}

before(async () => {
  ca = createTestCa();
  base = `http://127.0.0.1:${await listen(createServer(route))}`;
});

after(async () => {
  for (const s of serverSockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  ca.remove();
});

function settings(over: Record<string, unknown> = {}) {
  return http.schema.parse(over);
}

async function probe(target: string, over: Record<string, unknown> = {}, signal = AbortSignal.timeout(3000)): Promise<ProbeOutcome> {
  return http.probe({ target, module: settings(over), signal, timeoutMs: 3000, log });
}

function asResult(outcome: ProbeOutcome): ProbeResult {
  return { ...outcome, target: 't', module: 'm', durationMs: 1, startedAt: Date.now() };
}

function metric(outcome: ProbeOutcome, name: string, labels?: Record<string, string>): number | undefined {
  return http.metrics(asResult(outcome)).find((s) => s.name === name && (labels === undefined || JSON.stringify(s.labels) === JSON.stringify(labels)))?.value;
}

async function noServerSockets(): Promise<void> {
  for (let i = 0; i < 50 && serverSockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(serverSockets.size, 0, 'connections left open');
}

test('a 200 reports status, version, sizes, headers and all five phases', async () => {
  const out = await probe(`${base}/ok`);
  assert.equal(out.success, true, out.reason);
  assert.deepEqual(Object.keys(out.phases), ['resolve', 'connect', 'tls', 'processing', 'transfer']);
  assert.equal(out.phases.resolve, 0);
  assert.ok((out.phases.processing ?? 0) > 0);
  const d = out.details;
  assert.equal(d.status, 200);
  assert.equal(d.http_version, '1.1');
  assert.equal(d.content_length, 5);
  assert.equal(d.body_size, 5);
  assert.equal(d.redirects, 0);
  assert.equal(d.ssl, false);
  assert.equal(d.final_url, `${base}/ok`);
  assert.equal(d.ip_protocol, 4);
  assert.equal((d.headers as Record<string, string>).content_type, 'text/plain');
  assert.equal(d.body, undefined, 'a text body is not kept');
  await noServerSockets();
});

test('metrics carry blackbox names, phase labels and values', async () => {
  const out = await probe(`${base}/ok`);
  const samples = http.metrics(asResult(out));
  assert.deepEqual(new Set(samples.map((s) => s.name)), new Set([
    'probe_ip_protocol', 'probe_dns_lookup_time_seconds', 'probe_http_status_code', 'probe_http_content_length',
    'probe_http_uncompressed_body_length', 'probe_http_redirects', 'probe_http_ssl', 'probe_http_version',
    'probe_failed_due_to_regex', 'probe_http_duration_seconds', 'probe_ip_addr_hash',
  ]));
  assert.deepEqual(samples.filter((s) => s.name === 'probe_http_duration_seconds').map((s) => s.labels?.phase), ['resolve', 'connect', 'tls', 'processing', 'transfer']);
  assert.equal(metric(out, 'probe_http_status_code'), 200);
  assert.equal(metric(out, 'probe_http_version'), 1.1);
  assert.equal(metric(out, 'probe_http_uncompressed_body_length'), 5);
  assert.equal(metric(out, 'probe_http_ssl'), 0);
  assert.equal(metric(out, 'probe_ip_addr_hash'), fnv('127.0.0.1'));
  assert.ok(samples.every((s) => s.type === 'gauge' && Number.isFinite(s.value)));
});

/** FNV-1a over 127.0.0.1's four bytes, computed independently. */
function fnv(ip: string): number {
  let h = 2166136261;
  for (const b of ip.split('.').map(Number)) h = Number((BigInt((h ^ b) >>> 0) * 16777619n) % 4294967296n);
  return h;
}

test('a status outside the valid ones fails with both in the reason', async () => {
  const out = await probe(`${base}/status/503`);
  assert.equal(out.success, false);
  assert.equal(out.reason, 'status 503, expected 2xx');
  assert.equal(metric(out, 'probe_http_status_code'), 503);
  assert.equal((await probe(`${base}/status/503`, { valid_status_codes: [503] })).success, true);
  assert.equal((await probe(`${base}/ok`, { valid_status_codes: [201, 204] })).reason, 'status 200, expected one of 201, 204');
});

test('redirects are followed and counted, up to max_redirects', async () => {
  const out = await probe(`${base}/redirect/2`); // /redirect/2 -> /1 -> /0 -> /ok
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.redirects, 3);
  assert.equal(out.details.final_url, `${base}/ok`);
  assert.equal(metric(out, 'probe_http_redirects'), 3);
  assert.equal((await probe(`${base}/redirect/2`, { max_redirects: 3 })).success, true);
  assert.equal((await probe(`${base}/redirect/2`, { max_redirects: 2 })).reason, 'more than 2 redirects');
  const loop = await probe(`${base}/loop`);
  assert.equal(loop.reason, 'more than 10 redirects');
  assert.equal(loop.details.status, 302);
  const held = await probe(`${base}/redirect/3`, { follow_redirects: false });
  assert.equal(held.reason, 'status 302, expected 2xx');
  assert.equal((await probe(`${base}/redirect/3`, { follow_redirects: false, valid_status_codes: [302] })).success, true);
});

test('a 303 after a POST continues as a GET; a 307 repeats the POST with its body', async () => {
  const see = await probe(`${base}/to?code=303&url=/echo`, { method: 'POST', body: 'ping' });
  assert.deepEqual([(see.details.body as { method: string }).method, (see.details.body as { body: string }).body], ['GET', '']);
  const again = await probe(`${base}/to?code=307&url=/echo`, { method: 'POST', body: 'ping' });
  assert.deepEqual([(again.details.body as { method: string }).method, (again.details.body as { body: string }).body], ['POST', 'ping']);
});

test('a JSON body is parsed into details.body; body_json forces or disables it', async () => {
  const out = await probe(`${base}/json`);
  assert.deepEqual(out.details.body, { status: 'UP', checks: { db: 'ok' } });
  assert.equal(metric(out, 'probe_http_last_modified_timestamp_seconds'), 1445412480);
  assert.equal((await probe(`${base}/json`, { body_json: false })).details.body, undefined);
  const text = await probe(`${base}/ok`, { body_json: true });
  assert.equal(text.success, false);
  assert.match(text.reason ?? '', /^body is not JSON/);
});

test('conditions run over the details through runProbe', async () => {
  const run = (target: string, conditions: string[]) => runProbe({
    prober: http, moduleName: 'health', settings: settings(), target, timeoutMs: 3000, conditions: conditions.map((c) => compile(c)),
  });
  const ok = await run(`${base}/json`, ['status == 200 && body.status == "UP" && body.checks.db == "ok"', 'body_size < 1KiB && phases.processing < 2s']);
  assert.equal(ok.success, true, ok.reason);
  const down = await run(`${base}/json`, ['body.status == "DOWN"']);
  assert.equal(down.success, false);
  assert.equal(down.reason, 'condition failed: body.status == "DOWN"');
});

test('valid_http_versions', async () => {
  assert.equal((await probe(`${base}/ok`, { valid_http_versions: ['HTTP/2.0'] })).reason, 'HTTP/1.1 not in [HTTP/2.0]');
  assert.equal((await probe(`${base}/ok`, { valid_http_versions: ['HTTP/1.0', 'HTTP/1.1'] })).success, true);
});

test('body regexes fail the probe and set probe_failed_due_to_regex', async () => {
  const matched = await probe(`${base}/ok`, { fail_if_body_matches: ['hel+o'] });
  assert.equal(matched.reason, 'body matched /hel+o/');
  assert.equal(metric(matched, 'probe_failed_due_to_regex'), 1);
  assert.equal((await probe(`${base}/ok`, { fail_if_body_not_matches: ['bye'] })).reason, 'body did not match /bye/');
  const fine = await probe(`${base}/ok`, { fail_if_body_not_matches: ['^hello$'], fail_if_body_matches: ['error'] });
  assert.equal(fine.success, true, fine.reason);
  assert.equal(metric(fine, 'probe_failed_due_to_regex'), 0);
});

test('header regexes: matches, not-matches, missing and allow_missing', async () => {
  assert.equal((await probe(`${base}/ok`, { fail_if_header_matches: [{ header: 'Content-Type', regexp: '^text/' }] })).reason, 'header Content-Type matched /^text\\//');
  assert.equal((await probe(`${base}/ok`, { fail_if_header_not_matches: [{ header: 'content-type', regexp: 'json' }] })).reason, 'header content-type did not match /json/');
  assert.equal((await probe(`${base}/ok`, { fail_if_header_not_matches: [{ header: 'X-Version', regexp: '.' }] })).reason, 'header X-Version missing');
  const allowed = await probe(`${base}/ok`, { fail_if_header_matches: [{ header: 'X-Debug', regexp: '.', allow_missing: true }] });
  assert.equal(allowed.success, true, allowed.reason);
});

test('a body over max_body_size fails and reading stops', async () => {
  const out = await probe(`${base}/big`, { max_body_size: '1MiB' });
  assert.equal(out.success, false);
  assert.equal(out.reason, 'body larger than 1MiB');
  assert.ok((out.details.body_size as number) <= 1024 * 1024 + 64 * 1024);
  await noServerSockets();
  const whole = await probe(`${base}/big`);
  assert.equal(whole.details.body_size, 4 * 1024 * 1024);
});

test('a gzip body is decoded: its size and regexes are of the plain text', async () => {
  const out = await probe(`${base}/gzip`, { headers: { 'Accept-Encoding': 'gzip' }, fail_if_body_not_matches: ['systems nominal'] });
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.body_size, 'all systems nominal '.repeat(100).length);
  assert.ok(Number(out.details.content_length) < 2000 / 2, 'compressed on the wire');
});

test('headers, basic auth, bearer token and the user agent reach the server', async () => {
  const echoed = async (over: Record<string, unknown>, target = `${base}/echo`) => ((await probe(target, over)).details.body as { headers: Record<string, string> }).headers;
  const basic = await echoed({ basic_auth: { username: 'ops', password: 's3cret' }, headers: { 'X-Probe': 'yes', Host: 'status.example' } });
  assert.equal(basic.authorization, `Basic ${Buffer.from('ops:s3cret').toString('base64')}`);
  assert.equal(basic['x-probe'], 'yes');
  assert.equal(basic.host, 'status.example');
  assert.match(basic['user-agent'] ?? '', /^opsctl\//);
  assert.equal((await echoed({ bearer_token: 'tok' })).authorization, 'Bearer tok');
  assert.equal((await echoed({ headers: { 'User-Agent': 'mine' } }))['user-agent'], 'mine');
  const inUrl = await probe(base.replace('://', '://ops:pw@') + '/echo');
  assert.equal((inUrl.details.body as { headers: Record<string, string> }).headers.authorization, 'Basic b3BzOnB3');
  assert.equal(inUrl.details.final_url, `${base}/echo`, 'credentials are not kept in the details');
  const both = await probe(`${base}/echo`, { bearer_token: 'a', basic_auth: { username: 'b' } });
  assert.equal(both.reason, 'basic_auth and bearer_token cannot both be set');
});

test('credentials are not sent on a redirect to another host', async () => {
  const port = new URL(base).port;
  const out = await probe(`${base}/to?url=${encodeURIComponent(`http://localhost:${port}/echo`)}`, { bearer_token: 'tok', ip_protocol: 'ip4' });
  assert.equal(out.success, true, out.reason);
  assert.equal((out.details.body as { headers: Record<string, string> }).headers.authorization, undefined);
});

test('a server that never answers: the probe ends when the signal aborts, no sockets left', async () => {
  const started = performance.now();
  const out = await probe(`${base}/hang`, {}, AbortSignal.timeout(200));
  assert.ok(performance.now() - started < 1000, 'ended promptly');
  assert.equal(out.success, false);
  assert.match(out.reason ?? '', /^timed out waiting for the response from 127\.0\.0\.1:\d+$/);
  assert.equal(out.details.status, undefined);
  await noServerSockets();
  const viaRun = await runProbe({ prober: http, moduleName: 'm', settings: settings(), target: `${base}/stall`, timeoutMs: 200 });
  assert.equal(viaRun.reason, 'timed out reading the body');
  await noServerSockets();
});

test('a cancel (not a timeout) is reported as cancelled', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  assert.equal((await probe(`${base}/hang`, {}, controller.signal)).reason, 'cancelled');
  await noServerSockets();
});

test('connection refused and an unresolvable host fail with short reasons', async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  assert.equal((await probe(`http://127.0.0.1:${port}/`)).reason, `connection refused (127.0.0.1:${port})`);
  const nx = await probe('http://nothing-here.invalid/');
  assert.equal(nx.success, false);
  assert.match(nx.reason ?? '', /nothing-here\.invalid/);
  assert.equal((await probe('ftp://example.com/')).reason, 'invalid target "ftp://example.com/": expected an http or https URL');
  assert.equal((await probe(`127.0.0.1:${port}`)).reason, `connection refused (127.0.0.1:${port})`, 'a bare host:port is http');
});

test('https: verified with ca_file, facts and TLS metrics', async () => {
  const leaf = ca.issue();
  const url = await httpsServer(leaf);
  const out = await probe(`${url}/json`, { tls_config: { ca_file: ca.caFile } });
  assert.equal(out.success, true, out.reason);
  const d = out.details;
  assert.equal(d.ssl, true);
  assert.equal(d.authorized, true);
  assert.equal(d.tls_version, 'TLS 1.3');
  const left = (leaf.notAfter.getTime() - Date.now()) / 1000;
  assert.ok(Math.abs((d.cert_expiry as number) - left) < 5, `cert_expiry ${String(d.cert_expiry)} vs ${left}`);
  assert.ok((out.phases.tls ?? 0) > 0);
  assert.equal(metric(out, 'probe_http_ssl'), 1);
  assert.equal(metric(out, 'probe_ssl_earliest_cert_expiry'), leaf.notAfter.getTime() / 1000);
  assert.equal(metric(out, 'probe_ssl_last_chain_expiry_timestamp_seconds'), leaf.notAfter.getTime() / 1000);
  assert.equal(metric(out, 'probe_tls_version_info', { version: 'TLS 1.3' }), 1);
  const info = http.metrics(asResult(out)).find((s) => s.name === 'probe_ssl_last_chain_info');
  assert.deepEqual({ ...info?.labels, fingerprint_sha256: undefined }, { fingerprint_sha256: undefined, subject: 'CN=localhost,O=opsctl test', issuer: 'CN=opsctl test intermediate,O=opsctl test', subjectalternative: 'localhost' });
  assert.match(info?.labels?.fingerprint_sha256 ?? '', /^[0-9a-f]{64}$/);
  const run = await runProbe({
    prober: http, moduleName: 'm', settings: settings({ tls_config: { ca_file: ca.caFile } }), target: `${url}/json`, timeoutMs: 3000,
    conditions: [compile('status == 200 && body.status == "UP" && cert_expiry > 48h')],
  });
  assert.equal(run.success, true, run.reason);
  await noServerSockets();
});

test('https: an unknown CA fails but still reports the expiry; insecure_skip_verify passes', async () => {
  const url = await httpsServer(ca.issue());
  const out = await probe(`${url}/ok`);
  assert.equal(out.success, false);
  assert.equal(out.reason, 'certificate signed by unknown authority');
  assert.equal(out.details.authorized, false);
  assert.ok((out.details.cert_expiry as number) > 80 * 86400);
  assert.equal(out.details.status, undefined, 'no request was sent');
  assert.equal(metric(out, 'probe_ssl_last_chain_expiry_timestamp_seconds'), undefined);
  const insecure = await probe(`${url}/ok`, { tls_config: { insecure_skip_verify: true } });
  assert.equal(insecure.success, true, insecure.reason);
  assert.equal(insecure.details.authorized, false);
  const wrongName = await probe(`${url}/ok`, { tls_config: { ca_file: ca.caFile, server_name: 'other.example' } });
  assert.equal(wrongName.reason, 'certificate is not valid for other.example');
  assert.equal(wrongName.details.hostname_ok, false);
  assert.equal((await probe(`${url}/ok`, { tls_config: { ca_file: '/nonexistent/ca.pem' } })).success, false);
});

test('https: an expired certificate has a negative cert_expiry; a soon-expiring one fails cert_expiry > 48h', async () => {
  const expired = await httpsServer(ca.issue({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }));
  const out = await probe(`${expired}/ok`, { tls_config: { ca_file: ca.caFile } });
  assert.equal(out.reason, 'certificate has expired');
  assert.ok((out.details.cert_expiry as number) < -86_000);
  const soon = await httpsServer(ca.issue({ notAfter: new Date(Date.now() + 86_400_000) }));
  const run = await runProbe({
    prober: http, moduleName: 'm', settings: settings({ tls_config: { ca_file: ca.caFile } }), target: `${soon}/ok`, timeoutMs: 3000,
    conditions: [compile('cert_expiry > 48h')],
  });
  assert.equal(run.reason, 'condition failed: cert_expiry > 48h');
  assert.ok((run.details.cert_expiry as number) > 0 && (run.details.cert_expiry as number) <= 86_400);
});

test('fail_if_ssl and fail_if_not_ssl look at the final hop', async () => {
  const url = await httpsServer(ca.issue());
  assert.equal((await probe(`${base}/ok`, { fail_if_not_ssl: true })).reason, 'final request was not over TLS (fail_if_not_ssl)');
  assert.equal((await probe(`${url}/ok`, { fail_if_ssl: true, tls_config: { ca_file: ca.caFile } })).reason, 'final request was over TLS (fail_if_ssl)');
  const upgraded = await probe(`${base}/to?url=${encodeURIComponent(`${url}/ok`)}`, { fail_if_not_ssl: true, tls_config: { ca_file: ca.caFile } });
  assert.equal(upgraded.success, true, upgraded.reason);
  assert.equal(upgraded.details.redirects, 1);
});

test('the module schema is strict and fills defaults', () => {
  const bad = moduleSchema.safeParse({ prober: 'http', timeout: '5s', valid_status_codes: [200], bogus: 1 });
  assert.equal(bad.success, false);
  assert.ok(bad.error.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes('bogus')), JSON.stringify(bad.error.issues));
  const good = moduleSchema.parse({ prober: 'http', timeout: '5s', valid_status_codes: [200] });
  const { prober, settings: own } = splitModule(good);
  assert.equal(prober, 'http');
  assert.equal(own.max_body_size, 10 * 1024 * 1024);
  assert.equal(own.follow_redirects, true);
  assert.equal(http.schema.safeParse({ fail_if_body_matches: ['('] }).success, false);
  assert.equal(http.schema.safeParse({ tls_config: { insecure: true } }).success, false);
  assert.equal(http.schema.parse({ max_body_size: '512KiB' }).max_body_size, 512 * 1024);
});
