// End to end: three `opsctl server` replicas on one real etcd with one shared HS256 secret, four
// `opsctl agent` processes each given all three URLs (each starts at a random one), a config pushed
// through one replica reaching every agent (its rollout read through another), then one replica
// killed with SIGKILL: its agents fail over to the others, and a config pushed after the kill
// reaches them too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { upConfigSchema } from '../src/up/config.ts';
import { collect, repoRoot, runCli, startCli, waitForLine, type CliResult } from './helpers/cli.ts';
import { startEtcd } from './helpers/etcd.ts';
import { stopChild } from './helpers/process.ts';
import { until } from './helpers/ship.ts';
import { requireTool } from './helpers/tools.ts';

interface Replica { name: string; child: ChildProcess; done: Promise<CliResult>; address: string }
interface NodeItem { name: string; status: string; replica?: string }
interface Rollout { complete?: boolean; nodes?: Array<{ node: string; revision?: number; ok?: boolean }> }

test('three server replicas on etcd: a push through one reaches every agent; a SIGKILLed replica\'s agents fail over and get later pushes', async (t) => {
  const etcdPath = requireTool(t, 'etcd', 'etcd-server');
  if (etcdPath === undefined) return;
  const etcd = await startEtcd(etcdPath);
  t.after(() => etcd.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cluster-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = join(dir, 'jwt-hs256.secret');
  writeFileSync(secret, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });

  // Three replicas: their own listener, data_dir and name; the same store and secret.
  const replicas: Replica[] = await Promise.all([1, 2, 3].map(async (i): Promise<Replica> => {
    const config = join(dir, `replica-${i}.toml`);
    writeFileSync(config, `[log]\nformat = "json"\n[server]\nlisten = "127.0.0.1:0"\ndata_dir = "data-${i}"\nstore = "${etcd.url}"\n`
      + `replica = "replica-${i}"\nheartbeat = "1s"\n[server.auth]\nsecret_file = "jwt-hs256.secret"\n`);
    const child = startCli(['server', '--config', config]);
    const done = collect(child, 120_000);
    t.after(() => stopChild(child));
    const listening = await waitForLine(child, /"msg":"listening"/, 30_000);
    return { name: `replica-${i}`, child, done, address: (JSON.parse(listening) as { address: string }).address };
  }));
  const mint = async (sub: string, scope: string): Promise<string> => {
    const res = await runCli(['server', 'token', 'create', '--secret-file', secret, '--sub', sub, '--scope', scope, '--ttl', '10m']);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };
  const admin = await mint('alice', 'ops:write');
  const api = async (replica: Replica, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://${replica.address}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...init.headers } });
  const nodes = async (replica: Replica): Promise<NodeItem[]> => ((await (await api(replica, '/nodes')).json()) as { items?: NodeItem[] }).items ?? [];

  // Four agents, each with all three URLs (the list rotated per agent; each starts at a random one).
  const names = ['web-1', 'web-2', 'web-3', 'web-4'];
  const agents = await Promise.all(names.map(async (name, i) => {
    const tokenFile = join(dir, `${name}.token`);
    writeFileSync(tokenFile, `${await mint(name, 'agent')}\n`, { mode: 0o600 });
    const urls = [0, 1, 2].map((k) => `ws://${(replicas[(i + k) % 3] as Replica).address}`);
    const child = startCli(['agent', '--listen', '127.0.0.1:0', '--no-collector.filesystem', '--server', urls.join(','),
      '--token-file', tokenFile, '--node-name', name, '--label', 'role=web', '--data-dir', join(dir, name)]);
    const done = collect(child, 120_000);
    t.after(() => stopChild(child));
    return { name, child, done };
  }));
  const [first, second] = replicas as [Replica, Replica, Replica];
  await until(async () => {
    const items = await nodes(first);
    return names.every((n) => items.some((x) => x.name === n && x.status === 'ready' && x.replica !== undefined));
  }, 'the four agents ready in GET /api/v1/nodes', 30_000);

  const push = async (through: Replica, readVia: Replica, target: string): Promise<number> => {
    const put = await api(through, '/configs/web-probes', { method: 'PUT', body: JSON.stringify({ kind: 'probe', selector: 'role=web', body: { targets: [{ name: target, target: 'http://127.0.0.1:1/healthz', module: 'http_2xx' }] } }) });
    assert.ok(put.status === 200 || put.status === 201, await put.clone().text());
    const revision = (await put.json() as { revision: number }).revision;
    let last: Rollout = {};
    await until(async () => {
      last = await (await api(readVia, '/configs/web-probes/rollout')).json() as Rollout;
      return last.complete === true && names.every((n) => last.nodes?.some((x) => x.node === n && x.revision === revision && x.ok === true));
    }, `revision ${revision} applied on every node (read through ${readVia.name})`, 30_000).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}: ${JSON.stringify(last)}`);
    });
    for (const n of names) {
      const saved = JSON.parse(readFileSync(join(dir, n, 'pushed', 'probe', 'web-probes.json'), 'utf8')) as { targets: Array<{ name: string }> };
      assert.deepEqual(saved.targets.map((x) => x.name), [target], `${n} saved revision ${revision}`);
    }
    return revision;
  };
  const r1 = await push(first, second, 'before');

  // Kill (SIGKILL: no goodbye, its lease just expires) the replica holding the most agents.
  const holding = new Map<string, string[]>();
  for (const n of await nodes(second)) if (n.replica !== undefined) holding.set(n.replica, [...holding.get(n.replica) ?? [], n.name]);
  const [victimName, moved] = [...holding].sort((a, b) => b[1].length - a[1].length)[0] as [string, string[]];
  t.diagnostic(`agents per replica before the kill: ${JSON.stringify(Object.fromEntries(holding))}; killing ${victimName}`);
  const victim = replicas.find((r) => r.name === victimName) as Replica;
  const survivors = replicas.filter((r) => r !== victim) as [Replica, Replica];
  victim.child.kill('SIGKILL');
  assert.equal((await victim.done).signal, 'SIGKILL');

  await until(async () => {
    const items = await nodes(survivors[0]);
    return names.every((n) => items.some((x) => x.name === n && x.status === 'ready' && x.replica !== undefined && x.replica !== victimName));
  }, `${moved.join(', ')} (on ${victimName}) ready again on another replica`, 40_000);
  const after = await nodes(survivors[1]);
  for (const n of moved) {
    const item = after.find((x) => x.name === n);
    assert.ok(item && survivors.some((r) => r.name === item.replica), `${n} is on a surviving replica: ${JSON.stringify(item)}`);
  }

  // Nothing pushed is lost: a new revision through one survivor reaches every agent, the moved ones too.
  const r2 = await push(survivors[1], survivors[0], 'after');
  assert.ok(r2 > r1);

  for (const a of agents) await stopChild(a.child);
  for (const a of agents) assert.equal((await a.done).code, 0, `${a.name} exits 0`);
  for (const r of survivors) {
    await stopChild(r.child);
    const res = await r.done;
    assert.equal(res.code, 0, res.stderr);
  }
});

test('examples/cluster: three replicas sharing one store and one secret, each its own replica, listen and data_dir; an agent listing all three; all pass --check-config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cluster-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = join(dir, 'jwt-hs256.secret');
  writeFileSync(secret, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'agent.token'), 'token\n', { mode: 0o600 });
  const example = (name: string): string => join(repoRoot, 'examples', 'cluster', name);
  const servers = [1, 2, 3].map((i) => loadConfig({ schema: upConfigSchema, file: example(`replica-${i}.toml`) }).server);
  assert.deepEqual(servers.map((s) => s.replica), ['replica-1', 'replica-2', 'replica-3']);
  assert.equal(new Set(servers.map((s) => `${s.listen.host}:${s.listen.port}`)).size, 3);
  assert.equal(new Set(servers.map((s) => s.data_dir)).size, 3);
  assert.equal(new Set(servers.map((s) => s.store)).size, 1);
  assert.match(servers[0]?.store ?? '', /^etcd:\/\//);
  assert.equal(new Set(servers.map((s) => s.auth.secret_file)).size, 1);
  const agent = loadConfig({ schema: upConfigSchema, file: example('agent.toml') }).agent;
  assert.deepEqual(agent.server, servers.map((s) => `ws://${s.listen.host}:${s.listen.port}`));
  // The shared secret and the agent token are under /tmp/opsctl-cluster in the examples: here, files of this test.
  for (const i of [1, 2, 3]) {
    const res = await runCli(['server', '--check-config', '--config', example(`replica-${i}.toml`)], { env: { OPSCTL_SERVER__AUTH__SECRET_FILE: secret } });
    assert.equal(res.code, 0, res.stderr);
  }
  const res = await runCli(['up', '--check-config', '--config', example('agent.toml')], { env: { OPSCTL_AGENT__TOKEN_FILE: join(dir, 'agent.token') } });
  assert.equal(res.code, 0, res.stderr);
});
