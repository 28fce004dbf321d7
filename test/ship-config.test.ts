// End to end: `opsctl ship` runs the example config as written (paths moved to a temp dir),
// config mistakes exit 78 naming the file, the line and the key (or the cycle), flags override the
// file, and an address in use is exit 69.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.ts';
import { startReceiver } from './helpers/receiver.ts';
import { startShip, workspace } from './helpers/ship.ts';

/** The config of issue 4, "must work as written". */
const exampleConfig = `data_dir = "/var/lib/opsctl/ship"
listen = "127.0.0.1:9180"          # /metrics and /-/reload

[sources.app]
type = "file"
include = ["/var/log/app/*.log"]
read_from = "beginning"

[transforms.parse]
type = "parse"
inputs = ["app"]
format = "nginx"

[sinks.collector]
type = "http"
inputs = ["parse"]
url = "http://127.0.0.1:8080/ingest"
encoding = "ndjson"
fallback = "spool"

[sinks.spool]
type = "file"
inputs = []
path = "/var/lib/opsctl/ship/fallback.ndjson"
`;

const nginxLine = (seq: number): string =>
  `203.0.113.${seq % 250} - alice [22/Nov/2026:10:00:00 +0000] "GET /item/seq=${seq} HTTP/1.1" 200 ${100 + seq} "https://example.com/" "curl/8.5.0"`;

test('the example config works as written: nginx lines reach the receiver parsed', async (t) => {
  const ws = workspace(t);
  const rx = await startReceiver(t);
  // Only the machine-specific parts change: directories, the listen port, the receiver's port.
  const config = exampleConfig
    .replaceAll('/var/lib/opsctl/ship', ws.data)
    .replaceAll('/var/log/app', ws.logs)
    .replace('127.0.0.1:9180', '127.0.0.1:0')
    .replace('http://127.0.0.1:8080/ingest', rx.url);
  assert.notEqual(config, exampleConfig);
  const file = join(ws.dir, 'ship.toml');
  writeFileSync(file, config);
  const check = await runCli(['ship', '--config', file, '--check-config']);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /config ok: .*ship\.toml \(1 sources, 1 transforms, 2 sinks\)/);

  // A file present at start (read from the beginning), then one appearing later, then appends.
  const n = 300;
  writeFileSync(join(ws.logs, 'access.log'), Array.from({ length: 100 }, (_, i) => `${nginxLine(i)}\n`).join(''));
  writeFileSync(join(ws.logs, 'not-matched.txt'), `${nginxLine(999_999)}\n`);
  const ship = await startShip(t, file);
  writeFileSync(join(ws.logs, 'other.log'), Array.from({ length: 100 }, (_, i) => `${nginxLine(100 + i)}\n`).join(''));
  appendFileSync(join(ws.logs, 'access.log'), Array.from({ length: 100 }, (_, i) => `${nginxLine(200 + i)}\n`).join(''));
  await rx.waitForSeqs(0, n);

  assert.equal(rx.seqs().has(999_999), false, 'a file outside the glob was shipped');
  assert.equal(rx.duplicates, 0);
  const entry = rx.byMessage.get(nginxLine(42))?.[0];
  assert.ok(entry, 'line 42 received');
  assert.equal(entry.source, join(ws.logs, 'access.log'));
  assert.equal(entry.level, 'info');
  assert.equal(entry.timestamp, '2026-11-22T10:00:00.000Z');
  assert.deepEqual(
    { remote_addr: entry.fields.remote_addr, remote_user: entry.fields.remote_user, status: entry.fields.status, request: entry.fields.request, body_bytes_sent: entry.fields.body_bytes_sent, http_user_agent: entry.fields.http_user_agent },
    { remote_addr: '203.0.113.42', remote_user: 'alice', status: 200, request: 'GET /item/seq=42 HTTP/1.1', body_bytes_sent: 142, http_user_agent: 'curl/8.5.0' },
  );
  assert.equal(entry.fields.parse_error, undefined);
  assert.match(rx.lastContentType, /ndjson/);
  assert.ok(await ship.metric('opsctl_ship_events_out_total', { component: 'collector' }) >= n);

  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /"msg":"stopped"/);
});

test('an unknown key is exit 78 naming the file, the line and the key', async (t) => {
  const ws = workspace(t);
  const file = join(ws.dir, 'typo.toml');
  writeFileSync(file, `data_dir = ${JSON.stringify(ws.data)}\n[sources.app]\ntype = "file"\ninclude = ["/tmp/x.log"]\n[sinks.out]\ntype = "console"\ninputs = ["app"]\nbatch_size = 10\n`);
  for (const args of [['--check-config'], []]) {
    const res = await runCli(['ship', '--config', file, ...args]);
    assert.equal(res.code, 78, res.stderr);
    assert.match(res.stderr, /OPS_ERR_CONFIG_\w+/);
    assert.match(res.stderr, /typo\.toml:8\b/);
    assert.match(res.stderr, /batch_size/);
  }
});

test('a cycle in inputs is exit 78 naming the cycle', async (t) => {
  const ws = workspace(t);
  const file = join(ws.dir, 'cycle.toml');
  writeFileSync(file, [
    `data_dir = ${JSON.stringify(ws.data)}`,
    '[sources.app]', 'type = "file"', 'include = ["/tmp/x.log"]',
    '[transforms.a]', 'type = "filter"', 'inputs = ["app", "c"]', 'condition = "level != \'debug\'"',
    '[transforms.b]', 'type = "filter"', 'inputs = ["a"]', 'condition = "level != \'debug\'"',
    '[transforms.c]', 'type = "filter"', 'inputs = ["b"]', 'condition = "level != \'debug\'"',
    '[sinks.out]', 'type = "console"', 'inputs = ["c"]', '',
  ].join('\n'));
  const res = await runCli(['ship', '--config', file, '--check-config']);
  assert.equal(res.code, 78, res.stderr);
  assert.match(res.stderr, /OPS_ERR_CONFIG_INVALID: .*cycle\.toml:\d+: key "transforms\.[abc]\.inputs": /);
  // The cycle is named by its members, back to where it started (either direction).
  const cycle = /cycle in inputs: ((?:\w+ -> )+\w+)/.exec(res.stderr)?.[1]?.split(' -> ');
  assert.ok(cycle, res.stderr);
  assert.equal(cycle.at(0), cycle.at(-1));
  assert.deepEqual(new Set(cycle), new Set(['a', 'b', 'c']));
});

test('--check-config on a good config exits 0 without reading or sending anything', async (t) => {
  const ws = workspace(t);
  const log = join(ws.logs, 'app.log');
  writeFileSync(log, 'one line\n');
  const out = join(ws.dir, 'out.ndjson');
  const file = join(ws.dir, 'good.toml');
  writeFileSync(file, `data_dir = ${JSON.stringify(ws.data)}\n[sources.app]\ntype = "file"\ninclude = [${JSON.stringify(log)}]\n[sinks.out]\ntype = "file"\ninputs = ["app"]\npath = ${JSON.stringify(out)}\n`);
  const res = await runCli(['ship', '--config', file, '--check-config']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /config ok/);
  assert.throws(() => readFileSync(out), /ENOENT/);
});

test('--listen and --data-dir override the file; an address in use is exit 69', async (t) => {
  const ws = workspace(t);
  const log = join(ws.logs, 'app.log');
  writeFileSync(log, 'one\n');
  const out = join(ws.dir, 'out.ndjson');
  const file = join(ws.dir, 'ship.toml');
  writeFileSync(file, `data_dir = "/nonexistent/opsctl-ship"\nlisten = "127.0.0.1:1"\n[sources.app]\ntype = "file"\ninclude = [${JSON.stringify(log)}]\n[sinks.out]\ntype = "file"\ninputs = ["app"]\npath = ${JSON.stringify(out)}\nbatch = { timeout = "100ms" }\n`);
  const ship = await startShip(t, file, { args: ['--listen', '127.0.0.1:0', '--data-dir', ws.data] });
  assert.notEqual(ship.address, '127.0.0.1:1');
  const busy = await runCli(['ship', '--config', file, '--listen', ship.address, '--data-dir', join(ws.dir, 'other')]);
  assert.equal(busy.code, 69, busy.stderr);
  assert.match(busy.stderr, new RegExp(ship.address.replaceAll('.', '\\.')));
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
  assert.match(readFileSync(out, 'utf8'), /"message":"one"/);
  assert.match(readFileSync(join(ws.data, 'checkpoints', 'app.json'), 'utf8'), /"offset":4\b/);
});
