// The grpc prober against real grpc-js servers on 127.0.0.1: serving, not serving, unknown service, TLS, refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { grpc } from './grpc.ts';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, healthCheckMethod, type HealthCheckRequest, type HealthCheckResponse } from './grpc-health.ts';
import type { ProbeLog, ProbeResult } from '../types.ts';

const certFile = new URL('testdata/localhost.crt', import.meta.url).pathname;
const cert = readFileSync(certFile);
const key = readFileSync(new URL('testdata/localhost.key', import.meta.url));
const log: ProbeLog = { debug() {}, info() {} };
const servers: Server[] = [];

after(() => {
  for (const s of servers) s.forceShutdown();
});

/** Health by service name; a missing name answers NOT_FOUND, as the standard health server does; "slow" never answers. */
const health: Record<string, HealthCheckResponse['status']> = { '': 'SERVING', down: 'NOT_SERVING', odd: 'UNKNOWN' };

function checkHandler(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>): void {
  const service = call.request.service;
  if (service === 'slow') return;
  const s = health[service];
  if (s === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
  else callback(null, { status: s });
}

async function startServer(credentials = ServerCredentials.createInsecure()): Promise<number> {
  const server = new Server();
  server.addService({ Check: healthCheckMethod }, { Check: checkHandler });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

async function probe(target: string, module: Record<string, unknown> = {}, signal = AbortSignal.timeout(3000)) {
  return grpc.probe({ target, module: grpc.schema.parse(module), signal, timeoutMs: 3000, log });
}

const asResult = (o: Awaited<ReturnType<typeof probe>>): ProbeResult => ({ ...o, target: 't', module: 'm', durationMs: 1, startedAt: 0 });

test('the health messages round-trip, and unknown fields are skipped', () => {
  assert.deepEqual(decodeRequest(encodeRequest({ service: 'api.v1.Users' })), { service: 'api.v1.Users' });
  assert.deepEqual(encodeRequest({ service: '' }), Buffer.alloc(0));
  for (const s of ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const) assert.deepEqual(decodeResponse(encodeResponse({ status: s })), { status: s });
  // field 2 (a string "x"), then status = 2, then field 3 (fixed32)
  assert.deepEqual(decodeResponse(Buffer.from([0x12, 0x01, 0x78, 0x08, 0x02, 0x1d, 0, 0, 0, 0])), { status: 'NOT_SERVING' });
  assert.throws(() => decodeResponse(Buffer.from([0x08])), /truncated/);
});

test('SERVING succeeds, with status code and metrics', async () => {
  const port = await startServer();
  const out = await probe(`127.0.0.1:${port}`);
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.status, 'SERVING');
  assert.equal(out.details.grpc_code, 0);
  assert.equal(out.details.tls, false);
  const m = grpc.metrics(asResult(out));
  const serving = m.filter((s) => s.name === 'probe_grpc_healthcheck_response').map((s) => [s.labels?.serving_status, s.value]);
  assert.deepEqual(serving, [['UNKNOWN', 0], ['SERVING', 1], ['NOT_SERVING', 0], ['SERVICE_UNKNOWN', 0]]);
  assert.equal(m.find((s) => s.name === 'probe_grpc_status_code')?.value, 0);
  assert.ok((m.find((s) => s.labels?.phase === 'check')?.value ?? 0) > 0);
});

test('NOT_SERVING, UNKNOWN and an unknown service fail', async () => {
  const port = await startServer();
  const down = await probe(`127.0.0.1:${port}`, { service: 'down' });
  assert.equal(down.success, false);
  assert.equal(down.reason, 'serving status NOT_SERVING');
  assert.equal(down.details.status, 'NOT_SERVING');
  const odd = await probe(`127.0.0.1:${port}`, { service: 'odd' });
  assert.equal(odd.reason, 'serving status UNKNOWN');
  const missing = await probe(`127.0.0.1:${port}`, { service: 'nope' });
  assert.equal(missing.reason, 'Health/Check: NOT_FOUND: service "nope" unknown to the server');
  assert.equal(missing.details.status, 'SERVICE_UNKNOWN');
  assert.equal(missing.details.grpc_code, status.NOT_FOUND);
  assert.equal(grpc.metrics(asResult(missing)).find((s) => s.name === 'probe_grpc_status_code')?.value, 5);
});

test('a refused port fails UNAVAILABLE', async () => {
  const port = await startServer();
  const server = servers.pop() as Server;
  server.forceShutdown();
  const out = await probe(`127.0.0.1:${port}`);
  assert.equal(out.success, false);
  assert.equal(out.details.grpc_code, status.UNAVAILABLE);
  assert.match(out.reason ?? '', /^Health\/Check: UNAVAILABLE: .*ECONNREFUSED/);
  assert.equal(out.details.status, undefined);
});

test('a server that never answers: the call is cancelled when the signal aborts', async () => {
  const port = await startServer();
  const started = performance.now();
  const out = await probe(`127.0.0.1:${port}`, { service: 'slow' }, AbortSignal.timeout(200));
  assert.ok(performance.now() - started < 1500);
  assert.equal(out.reason, `timed out waiting for 127.0.0.1:${port} Health/Check`);
  assert.equal(out.details.grpc_code, status.CANCELLED);
});

test('tls: verified with ca_file, or skipped; certificate expiry reported', async () => {
  const port = await startServer(ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]));
  const verified = await probe(`localhost:${port}`, { tls: true, tls_config: { ca_file: certFile }, ip_protocol: 'ip4' });
  assert.equal(verified.success, true, verified.reason);
  assert.equal(verified.details.tls, true);
  assert.ok((verified.details.cert_expiry as number) > 90 * 365 * 86400);
  const names = grpc.metrics(asResult(verified)).map((s) => s.name);
  assert.ok(names.includes('probe_ssl_earliest_cert_expiry'));
  assert.equal(verified.details.tls_version, 'TLS 1.3');
  const skipped = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { insecure_skip_verify: true, server_name: 'localhost' } });
  assert.equal(skipped.success, true, skipped.reason);
  assert.equal(skipped.details.cert_expiry_timestamp, verified.details.cert_expiry_timestamp);
  assert.equal(grpc.metrics(asResult(skipped)).find((s) => s.name === 'probe_tls_version_info')?.labels?.version, 'TLS 1.3');
  const untrusted = await probe(`127.0.0.1:${port}`, { tls: true, tls_config: { server_name: 'localhost' } });
  assert.equal(untrusted.success, false);
  assert.match(untrusted.reason ?? '', /^Health\/Check: UNAVAILABLE: .*self-signed certificate/);
  const plain = await probe(`127.0.0.1:${port}`);
  assert.equal(plain.success, false);
});

test('config: unknown keys are errors', () => {
  assert.throws(() => grpc.schema.parse({ service: 'x', preferred_ip_protocol: 'ip4' }));
  assert.throws(() => grpc.schema.parse({ tls_config: { insecure: true } }));
});
