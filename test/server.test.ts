// End to end: `opsctl server` on the SQLite store with its default key, an `opsctl agent` linked to
// it, a config document pushed through the API reaching the agent, its rollout, the audit trail,
// and the answers to bad tokens and bad requests.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, runCli, startCli, waitForLine } from './helpers/cli.ts';
import { stopChild } from './helpers/process.ts';
import { until } from './helpers/ship.ts';

test('opsctl server: default key, a linked agent, a pushed config and its rollout, audit, coded errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'opsctl.toml');
  writeFileSync(config, `[log]\nformat = "json"\n[server]\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nheartbeat = "1s"\n`);
  const server = startCli(['server', '--config', config]);
  const serverDone = collect(server, 120_000);
  t.after(() => stopChild(server));
  const listening = await waitForLine(server, /"msg":"listening"/, 30_000);
  const address = (JSON.parse(listening) as { address: string }).address;
  // The default secret was created, private.
  assert.equal(statSync(join(dir, 'data', 'jwt-hs256.secret')).mode & 0o777, 0o600);
  const mint = async (sub: string, scope: string): Promise<string> => {
    const res = await runCli(['server', 'token', 'create', '--config', config, '--sub', sub, '--scope', scope, '--ttl', '10m']);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };
  const admin = await mint('alice', 'ops:write');
  const agentToken = await mint('web-1', 'agent');
  const api = async (path: string, init: RequestInit = {}, token = admin): Promise<Response> =>
    fetch(`http://${address}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  writeFileSync(join(dir, 'agent.token'), `${agentToken}\n`, { mode: 0o600 });
  const agent = startCli(['agent', '--listen', '127.0.0.1:0', '--no-collector.filesystem', '--server', `ws://${address}`,
    '--token-file', join(dir, 'agent.token'), '--node-name', 'web-1', '--label', 'role=web', '--data-dir', join(dir, 'agent')]);
  const agentDone = collect(agent, 120_000);
  t.after(() => stopChild(agent));
  await until(async () => {
    const res = await api('/nodes');
    const body = await res.json() as { items?: Array<{ name: string; status: string }> };
    return body.items?.some((n) => n.name === 'web-1' && n.status === 'ready') ?? false;
  }, 'the agent ready in GET /api/v1/nodes', 30_000);

  const put = await api('/configs/web-probes', { method: 'PUT', body: JSON.stringify({ kind: 'probe', selector: 'role=web', body: { targets: [{ name: 'self', target: `http://${address}/healthz`, module: 'http_2xx' }] } }) });
  assert.equal(put.status, 201, await put.clone().text());
  const revision = (await put.json() as { revision: number }).revision;
  await until(async () => {
    const r = await (await api('/configs/web-probes/rollout')).json() as { complete?: boolean; nodes?: Array<{ node: string; revision?: number }> };
    return r.complete === true && r.nodes?.[0]?.revision === revision;
  }, 'the rollout applied on web-1', 30_000);
  assert.deepEqual((JSON.parse(readFileSync(join(dir, 'agent', 'pushed', 'probe', 'web-probes.json'), 'utf8')) as { targets: Array<{ name: string }> }).targets.map((x) => x.name), ['self']);

  // A bad body is a 422 naming the key; a stale revision a 409.
  const bad = await api('/configs/web-probes', { method: 'PUT', body: JSON.stringify({ kind: 'probe', body: { targets: [{ name: 'x', target: 'y', module: 'nope' }] } }) });
  assert.equal(bad.status, 422);
  assert.equal((await bad.json() as { error: { details: { key: string } } }).error.details.key, 'body.targets.0.module');
  const stale = await api('/configs/web-probes', { method: 'PUT', body: JSON.stringify({ kind: 'probe', body: {}, revision: revision - 1 }) });
  assert.equal(stale.status, 409);

  // Tokens: none, garbage, the agent's token on the API, a read-only token writing.
  const none = await fetch(`http://${address}/api/v1/nodes`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="opsctl"/);
  const garbage = await api('/nodes', {}, 'a.b.c');
  assert.equal(garbage.status, 401);
  assert.match(garbage.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  const agentOnApi = await api('/nodes', {}, agentToken);
  assert.equal(agentOnApi.status, 403);
  const reader = await mint('bob', 'ops:read');
  const readOnly = await api('/configs/x', { method: 'PUT', body: JSON.stringify({ kind: 'agent', body: {} }) }, reader);
  assert.equal(readOnly.status, 403);
  assert.match(readOnly.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="ops:write"/);
  assert.ok(readOnly.headers.get('ratelimit-limit'), 'rate limit headers on every answer');

  const audit = await (await api('/audit?subject=alice')).json() as { items: Array<{ method: string; path: string; status: number }> };
  assert.deepEqual(audit.items.map((r) => [r.method, r.path, r.status]), [['PUT', '/api/v1/configs/web-probes', 201], ['PUT', '/api/v1/configs/web-probes', 422], ['PUT', '/api/v1/configs/web-probes', 409]]);
  const denied = await (await api('/audit?subject=-')).json() as { items: Array<{ status: number }> };
  assert.ok(denied.items.filter((r) => r.status === 401 || r.status === 403).length >= 4, 'denied calls are audited');
  assert.equal((await fetch(`http://${address}/readyz`)).status, 200);

  // Stopping the agent leaves its node not ready; stopping the server exits 0.
  await stopChild(agent);
  assert.equal((await agentDone).code, 0);
  await until(async () => {
    const n = await (await api('/nodes/web-1')).json() as { status: string; reason?: string };
    return n.status === 'not_ready' && /disconnected since/.test(n.reason ?? '');
  }, 'web-1 not ready', 30_000);
  await stopChild(server);
  const res = await serverDone;
  assert.equal(res.code, 0, res.stderr);
});
