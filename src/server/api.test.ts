import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { silentLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import { OpsError } from '../core/errors.ts';
import { openStore, type Store } from '../store/index.ts';
import { registerApi, type Authenticator, type Principal, type Scope } from './api.ts';
import { AuditLog, type AuditRecord } from './audit.ts';
import { httpError } from './errors.ts';

/** Tokens "<subject>:<scope>,<scope>"; anything else is a 401, a missing scope a 403. */
const fakeAuth: Authenticator = {
  authenticate(header: string | undefined, scope: Scope): Promise<Principal> {
    const m = /^Bearer ([a-z]+):([a-z:,]*)$/.exec(header ?? '');
    if (!m) return Promise.reject(httpError('OPS_ERR_API_BAD_REQUEST', 'invalid token', 401, { 'www-authenticate': 'Bearer realm="opsctl", error="invalid_token"' }));
    const scopes = new Set((m[2] ?? '').split(','));
    if (!scopes.has(scope)) return Promise.reject(httpError('OPS_ERR_API_BAD_REQUEST', `needs ${scope}`, 403, { 'www-authenticate': `Bearer realm="opsctl", error="insufficient_scope", scope="${scope}"` }));
    return Promise.resolve({ subject: m[1] ?? '', scopes });
  },
};

const writer = { authorization: 'Bearer alice:ops:read,ops:write' };
const reader = { authorization: 'Bearer bob:ops:read' };

const probeBody = { targets: [{ name: 'web', target: 'http://127.0.0.1:1/', module: 'http_2xx' }] };

async function setup(t: TestContext): Promise<{ app: FastifyInstance; store: Store; audit: AuditLog }> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-api-'));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
  const registry = createRegistry({ runtime: false });
  const log = silentLogger();
  const audit = new AuditLog({ store, log, registry, retentionMs: 86_400_000 });
  const app = Fastify({ bodyLimit: 64 * 1024 });
  await registerApi(app, {
    store, auth: fakeAuth, audit, log,
    checkSelector: (s) => { if (s.includes('(')) throw new OpsError('OPS_ERR_SELECTOR', `bad selector "${s}" at 0`); },
  });
  await app.ready();
  t.after(async () => {
    await app.close();
    await audit.flush();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, store, audit };
}

test('configs: create 201, replace 200 with the revision, a stale revision or If-Match is 409, delete', async (t) => {
  const { app } = await setup(t);
  const created = await app.inject({ method: 'PUT', url: '/api/v1/configs/web-probes', headers: writer, payload: { kind: 'probe', selector: 'role=web', body: probeBody } });
  assert.equal(created.statusCode, 201, created.body);
  const doc = created.json<{ revision: number; author: string; kind: string }>();
  assert.equal(doc.author, 'alice');
  assert.equal(created.headers.etag, `"${doc.revision}"`);
  const replaced = await app.inject({ method: 'PUT', url: '/api/v1/configs/web-probes', headers: writer, payload: { kind: 'probe', body: probeBody, revision: doc.revision } });
  assert.equal(replaced.statusCode, 200, replaced.body);
  const rev2 = replaced.json<{ revision: number }>().revision;
  assert.ok(rev2 > doc.revision);
  const stale = await app.inject({ method: 'PUT', url: '/api/v1/configs/web-probes', headers: writer, payload: { kind: 'probe', body: probeBody, revision: doc.revision } });
  assert.equal(stale.statusCode, 409);
  assert.equal(stale.json<{ error: { code: string; details: { revision: number } } }>().error.code, 'OPS_ERR_API_CONFLICT');
  assert.equal(stale.json<{ error: { details: { revision: number } } }>().error.details.revision, rev2);
  const ifMatch = await app.inject({ method: 'PUT', url: '/api/v1/configs/web-probes', headers: { ...writer, 'if-match': `"${doc.revision}"` }, payload: { kind: 'probe', body: probeBody } });
  assert.equal(ifMatch.statusCode, 409);
  const createOnly = await app.inject({ method: 'PUT', url: '/api/v1/configs/web-probes', headers: writer, payload: { kind: 'probe', body: probeBody, revision: 0 } });
  assert.equal(createOnly.statusCode, 409, 'revision 0 means: only if it does not exist');
  const got = await app.inject({ url: '/api/v1/configs/web-probes', headers: reader });
  assert.equal(got.statusCode, 200);
  assert.equal(got.json<{ revision: number }>().revision, rev2);
  const del = await app.inject({ method: 'DELETE', url: '/api/v1/configs/web-probes', headers: writer });
  assert.equal(del.statusCode, 200);
  assert.equal((await app.inject({ url: '/api/v1/configs/web-probes', headers: reader })).statusCode, 404);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/configs/web-probes', headers: writer })).statusCode, 404);
});

test('configs: a body that does not fit its kind is 422 naming the key; bad JSON, unknown fields, bad names and selectors are coded 4xx', async (t) => {
  const { app } = await setup(t);
  const badModule = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: writer, payload: { kind: 'probe', body: { targets: [{ name: 'a', target: 'http://x/', module: 'nope' }] } } });
  assert.equal(badModule.statusCode, 422, badModule.body);
  const err = badModule.json<{ error: { code: string; details: { key: string } } }>().error;
  assert.equal(err.code, 'OPS_ERR_API_INVALID');
  assert.equal(err.details.key, 'body.targets.0.module');
  const badShip = await app.inject({ method: 'PUT', url: '/api/v1/configs/s', headers: writer, payload: { kind: 'ship', body: { sources: {}, sinks: {}, bogus: 1 } } });
  assert.equal(badShip.statusCode, 422);
  assert.match(badShip.json<{ error: { message: string } }>().error.message, /bogus/);
  const unknownField = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: writer, payload: { kind: 'probe', body: probeBody, colour: 'red' } });
  assert.equal(unknownField.statusCode, 422);
  assert.equal(unknownField.json<{ error: { details: { key: string } } }>().error.details.key, '(body)');
  const badJson = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: { ...writer, 'content-type': 'application/json' }, payload: '{"kind": ' });
  assert.equal(badJson.statusCode, 400);
  assert.equal(badJson.json<{ error: { code: string } }>().error.code, 'OPS_ERR_API_BAD_REQUEST');
  const huge = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: writer, payload: { kind: 'probe', body: { pad: 'x'.repeat(100_000) } } });
  assert.equal(huge.statusCode, 413);
  assert.equal(huge.json<{ error: { code: string } }>().error.code, 'OPS_ERR_API_TOO_LARGE');
  const badName = await app.inject({ method: 'PUT', url: '/api/v1/configs/Bad_Name', headers: writer, payload: { kind: 'probe', body: probeBody } });
  assert.equal(badName.statusCode, 400);
  const badSelector = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: writer, payload: { kind: 'probe', selector: 'tier in (a', body: probeBody } });
  assert.equal(badSelector.statusCode, 400);
  assert.equal(badSelector.json<{ error: { code: string } }>().error.code, 'OPS_ERR_SELECTOR');
  const badLimit = await app.inject({ url: '/api/v1/configs?limit=0', headers: reader });
  assert.equal(badLimit.statusCode, 400);
  const badContinue = await app.inject({ url: '/api/v1/configs?continue=garbage', headers: reader });
  assert.equal(badContinue.statusCode, 400);
  const noRoute = await app.inject({ url: '/api/v1/nothing', headers: reader });
  assert.equal(noRoute.statusCode, 404);
  assert.equal(noRoute.json<{ error: { code: string } }>().error.code, 'OPS_ERR_API_NOT_FOUND');
});

test('lists paginate with limit and continue, one snapshot across pages', async (t) => {
  const { app } = await setup(t);
  for (let i = 0; i < 7; i++) {
    const res = await app.inject({ method: 'PUT', url: `/api/v1/configs/c${i}`, headers: writer, payload: { kind: 'agent', body: {} } });
    assert.equal(res.statusCode, 201, res.body);
  }
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const res = await app.inject({ url: `/api/v1/configs?limit=3${token ? `&continue=${token}` : ''}`, headers: reader });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json<{ items: Array<{ name: string }>; continue?: string }>();
    names.push(...page.items.map((x) => x.name));
    token = page.continue;
    pages++;
    // A write between pages does not show in the later pages: they read at the first page's revision.
    if (pages === 1) await app.inject({ method: 'PUT', url: '/api/v1/configs/c9', headers: writer, payload: { kind: 'agent', body: {} } });
  } while (token !== undefined);
  assert.equal(pages, 3);
  assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
});

test('auth: 401 and 403 keep their WWW-Authenticate; mutations and denials are audited', async (t) => {
  const { app, audit } = await setup(t);
  const none = await app.inject({ url: '/api/v1/configs' });
  assert.equal(none.statusCode, 401);
  assert.match(String(none.headers['www-authenticate']), /error="invalid_token"/);
  const readOnly = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: reader, payload: { kind: 'probe', body: probeBody } });
  assert.equal(readOnly.statusCode, 403);
  assert.match(String(readOnly.headers['www-authenticate']), /insufficient_scope/);
  const ok = await app.inject({ method: 'PUT', url: '/api/v1/configs/x', headers: writer, payload: { kind: 'probe', body: probeBody } });
  assert.equal(ok.statusCode, 201);
  await app.inject({ url: '/api/v1/configs', headers: reader }); // a read: not audited
  await audit.flush();
  const res = await app.inject({ url: '/api/v1/audit', headers: reader });
  assert.equal(res.statusCode, 200);
  const records = res.json<{ items: AuditRecord[] }>().items;
  assert.deepEqual(records.map((r) => [r.method, r.status, r.outcome, r.subject]), [['GET', 401, 'denied', '-'], ['PUT', 403, 'denied', '-'], ['PUT', 201, 'success', 'alice']]);
  assert.equal(records[2]?.target, 'config/x');
  assert.equal(records[2]?.revision, ok.json<{ revision: number }>().revision);
  const bySubject = await app.inject({ url: '/api/v1/audit?subject=alice', headers: reader });
  assert.equal(bySubject.json<{ items: AuditRecord[] }>().items.length, 1);
});

test('audit retention deletes old records only', async (t) => {
  const { store } = await setup(t);
  const audit = new AuditLog({ store, log: silentLogger(), registry: createRegistry({ runtime: false }), retentionMs: 60_000 });
  audit.record({ subject: 'a', client: '127.0.0.1', method: 'PUT', path: '/x', status: 200, outcome: 'success' });
  await audit.flush();
  assert.equal(await audit.sweep(Date.now()), 0);
  assert.equal(await audit.sweep(Date.now() + 120_000), 1);
  assert.equal((await store.range('/opsctl/audit/')).kvs.length, 0);
});

test('a store that is gone answers 503 with Retry-After, not 500', async (t) => {
  const { app, store } = await setup(t);
  await store.close();
  const res = await app.inject({ url: '/api/v1/configs', headers: reader });
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(res.headers['retry-after'], '5');
});

test('the OpenAPI document lists every route with its scope and the error schema', async (t) => {
  const { app } = await setup(t);
  const res = await app.inject({ url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { security: Array<{ bearer: string[] }>; requestBody?: unknown }>> }>();
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(doc.paths['/api/v1/configs/{name}']?.put?.security, [{ bearer: ['ops:write'] }]);
  assert.ok(doc.paths['/api/v1/configs/{name}']?.put?.requestBody, 'PUT has its body schema');
  assert.ok(doc.paths['/api/v1/audit']?.get);
});
