// `opsctl agent --server ...` end to end: the CLI links to an in-process hub, receives a pushed
// document into its data dir, acks it, and leaves its node not_ready when stopped.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/store/index.ts';
import { configKey, configRecordSchema, decodeRecord, encodeRecord, linkKey, nodeKey, nodeRecordSchema, rolloutKey, rolloutRecordSchema } from '../src/link/records.ts';
import { startHub, until } from '../src/link/testing.ts';
import { collect, runCli, startCli } from './helpers/cli.ts';
import { stopChild } from './helpers/process.ts';

test('opsctl agent --server links, saves a pushed document, acks it, and unlinks on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-agent-link-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
  t.after(() => store.close());
  const h = await startHub(t, store);
  const record = { name: 'web-probes', kind: 'probe', selector: 'role=web', body: { targets: [] }, author: 'test', updatedAt: new Date().toISOString() } as const;
  const revision = await store.put(configKey('web-probes'), encodeRecord(configRecordSchema, record, configKey('web-probes')));
  writeFileSync(join(dir, 'token'), 'agent-token\n', { mode: 0o600 });
  const child = startCli([
    'agent', '--listen', '127.0.0.1:0', '--no-collector.filesystem',
    '--server', h.url, '--token-file', join(dir, 'token'), '--node-name', 'cli-node', '--label', 'role=web', '--data-dir', join(dir, 'data'),
  ]);
  const done = collect(child, 60_000);
  t.after(() => stopChild(child));
  await until(async () => {
    const kv = await store.get(rolloutKey('web-probes', 'cli-node'));
    return kv !== undefined && decodeRecord(rolloutRecordSchema, kv).revision === revision;
  }, 'the rollout of web-probes');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'data', 'pushed', 'probe', 'web-probes.json'), 'utf8')), { targets: [] });
  const kv = await store.get(nodeKey('cli-node'));
  const node = kv && decodeRecord(nodeRecordSchema, kv);
  assert.deepEqual(node?.labels, { role: 'web' });
  assert.ok(node && node.facts.cpus > 0 && node.facts.memoryBytes > 0 && node.facts.kernel !== '');
  await stopChild(child);
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  await until(async () => (await store.get(linkKey('cli-node'))) === undefined, 'the link key deleted');
});

test('opsctl agent: link flags are checked like [agent] keys, naming the flag', async () => {
  const noToken = await runCli(['agent', '--listen', '127.0.0.1:0', '--server', 'wss://opsctl.example']);
  assert.equal(noToken.code, 78);
  assert.match(noToken.stderr, /OPS_ERR_CONFIG_INVALID: .*key "token_file": a server needs token_file/);
  const badUrl = await runCli(['agent', '--listen', '127.0.0.1:0', '--server', 'https://opsctl.example', '--token-file', '/nonexistent']);
  assert.match(badUrl.stderr, /flag --server: key "server": expected a wss:\/\/ \(or ws:\/\/\) URL/);
  const badLabel = await runCli(['agent', '--listen', '127.0.0.1:0', '--label', 'bad key=x']);
  assert.match(badLabel.stderr, /flag --label: key "labels\.bad key": "bad key" is not a label key/);
  const missing = await runCli(['agent', '--listen', '127.0.0.1:0', '--server', 'wss://opsctl.example', '--token-file', '/nonexistent/token']);
  assert.match(missing.stderr, /OPS_ERR_LINK_TOKEN: token file \/nonexistent\/token: ENOENT/);
  assert.equal(missing.code, 78);
  assert.equal(existsSync('/nonexistent'), false);
});
