// End to end: what comes in may be hostile. A plugin that throws or hangs for some entries, a 10 MB line,
// invalid UTF-8 and binary garbage: the shipper counts and flags them and keeps shipping. And stdin:
// the run ends with its input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliPath, collect, repoRoot } from './helpers/cli.ts';
import { seqLine, startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, q, readIfExists, shipHead, shipWorkspace, startShip, until, workspace } from './helpers/ship.ts';

test('a plugin that throws for some entries: the pipeline keeps going, on_error = "pass" delivers them flagged and counted', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(join(dir, 'tag.mjs'), `// Tags entries; throws for the ones saying "boom", sometimes asynchronously.
export async function transform(entry) {
  if (entry.message.includes('boom')) {
    if (entry.message.includes('seq=00000')) throw new Error('plugin exploded');
    await Promise.resolve();
    throw new TypeError('plugin exploded later');
  }
  return { ...entry, fields: { ...entry.fields, tagged: true } };
}
`);
  writeFileSync(file, `${shipHead(data)}${fileSource('app', log)}[transforms.tag]
type = "plugin"
inputs = ["app"]
path = "tag.mjs"
on_error = "pass"
${httpSink('rx', ['tag'], rx.url, 'batch = { max_events = 100, timeout = "100ms" }')}`);
  const ship = await startShip(t, file);
  const n = 2000;
  let chunk = '';
  for (let s = 0; s < n; s++) chunk += `${seqLine(s, s % 10 === 3 ? 'boom' : 'fine')}\n`;
  appendFileSync(log, chunk);
  await rx.waitForSeqs(0, n);

  let flagged = 0;
  for (const e of rx.entries) {
    if (e.message.startsWith('boom ')) {
      flagged++;
      assert.match(String(e.fields.plugin_error), /plugin exploded/);
      assert.equal(e.fields.tagged, undefined);
    } else {
      assert.equal(e.fields.tagged, true, e.message);
      assert.equal(e.fields.plugin_error, undefined);
    }
  }
  assert.equal(flagged, n / 10);
  assert.equal(rx.total, n);
  assert.equal(await ship.metric('opsctl_ship_errors_total', { component: 'tag', error: 'plugin' }), n / 10);
  // Still alive and shipping after the errors.
  await appendSeqLines(log, n, n + 100, { tag: 'later' });
  await rx.waitForSeqs(n, n + 100, 20_000, 'later');
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('a plugin that hangs: the batch times out, is flagged and counted, and the plugin keeps working for later lines', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(join(dir, 'slow.mjs'), `// Loops forever on "hang", tags the rest.
export function transform(entry) {
  if (entry.message.startsWith('hang ')) for (;;);
  return { ...entry, fields: { ...entry.fields, tagged: true } };
}
`);
  writeFileSync(file, `${shipHead(data)}${fileSource('app', log)}[transforms.slow]
type = "plugin"
inputs = ["app"]
path = "slow.mjs"
timeout = "300ms"
on_error = "pass"
${httpSink('rx', ['slow'], rx.url, 'batch = { timeout = "100ms" }')}`);
  const ship = await startShip(t, file);
  await appendSeqLines(log, 0, 10, { tag: 'hang' });
  await rx.waitForSeqs(0, 10, 20_000, 'hang');
  for (const e of rx.entries) assert.match(String(e.fields.plugin_error), /longer than 300ms|timed? ?out/i, JSON.stringify(e));
  assert.ok(await ship.metric('opsctl_ship_errors_total', { component: 'slow', error: 'plugin_timeout' }) >= 10);
  await appendSeqLines(log, 10, 110, { tag: 'fine' });
  await rx.waitForSeqs(10, 110, 20_000, 'fine');
  assert.ok(rx.entries.filter((e) => e.message.startsWith('fine ')).every((e) => e.fields.tagged === true));
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('a 10 MB line, invalid UTF-8 and binary garbage: truncated, replaced and counted, and later lines still arrive', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(file, shipHead(data) + fileSource('app', log, 'max_line_bytes = "1MiB"') +
    httpSink('rx', ['app'], rx.url, 'batch = { max_events = 100, timeout = "100ms" }'));
  const ship = await startShip(t, file);
  await appendSeqLines(log, 0, 100);
  // A 10 MB line: one entry, cut to 1 MiB and flagged; the rest of it must not become more lines.
  const big = `big seq=0000100 ${'y'.repeat(10 * 1024 * 1024)}\n`;
  appendFileSync(log, big);
  // Invalid UTF-8: a lone continuation byte, an overlong encoding and a truncated sequence.
  appendFileSync(log, Buffer.concat([Buffer.from('utf8 seq=0000101 caf'), Buffer.from([0x80, 0xc0, 0xaf, 0xe2, 0x82]), Buffer.from(' end\n')]));
  // Garbage: random bytes (NULs and stray newlines included), ending in a newline.
  const garbage = Buffer.concat([randomBytes(256 * 1024), Buffer.from('\n')]);
  appendFileSync(log, garbage);
  await appendSeqLines(log, 102, 300);
  await rx.waitForSeqs(102, 300, 30_000);

  const bigs = rx.entries.filter((e) => e.message.includes('yyyyyyyyyy'));
  assert.equal(bigs.length, 1, 'the long line became one entry');
  const cut = bigs[0];
  assert.ok(cut);
  assert.ok(cut.message.startsWith('big seq=0000100 y'));
  assert.equal(cut.fields.truncated, true);
  assert.ok(Buffer.byteLength(cut.message) <= 1024 * 1024, `${Buffer.byteLength(cut.message)} bytes`);
  assert.ok(Buffer.byteLength(cut.message) >= 1024 * 1024 - 4, 'cut well short of max_line_bytes');

  const bad = rx.entries.find((e) => e.message.startsWith('utf8 seq=0000101 '));
  assert.ok(bad, 'the invalid UTF-8 line arrived');
  assert.match(bad.message, /^utf8 seq=0000101 caf\uFFFD+ end$/);
  assert.equal(bad.fields.invalid_utf8, true);

  assert.ok(await ship.metric('opsctl_ship_errors_total', { component: 'app', error: 'truncated' }) >= 1);
  assert.ok(await ship.metric('opsctl_ship_errors_total', { component: 'app', error: 'invalid_utf8' }) >= 1);
  assert.deepEqual(rx.missing(0, 100), []);
  assert.equal(rx.invalid, 0, 'the shipper sent something that is not JSON entries');
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

/** Runs `opsctl ship --config <config>` with `input` on its stdin, to its end. */
async function shipStdin(config: string, input: Buffer | string): Promise<Awaited<ReturnType<typeof collect>>> {
  const child = spawn(process.execPath, [cliPath, 'ship', '--config', config], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child, 30_000);
  child.stdin.end(input);
  return done;
}

test('stdin: the run ends with its input, exit 0, every line in the output file', async (t) => {
  const ws = workspace(t);
  const out = join(ws.dir, 'out.ndjson');
  const config = join(ws.dir, 'stdin-to-file.toml');
  writeFileSync(config, `${shipHead(ws.data)}[sources.in]
type = "stdin"
[sinks.out]
type = "file"
inputs = ["in"]
path = ${q(out)}
`);
  const res = await shipStdin(config, 'a\nb\n');
  assert.equal(res.code, 0, res.stderr);
  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { message: string; source: string });
  assert.deepEqual(lines.map((l) => l.message), ['a', 'b']);
  assert.equal(lines[0]?.source, 'stdin');

  // A last line without its newline still counts; invalid UTF-8 is replaced.
  const again = await shipStdin(config, Buffer.concat([Buffer.from('c\nd'), Buffer.from([0xff]), Buffer.from('\ne')]));
  assert.equal(again.code, 0, again.stderr);
  const all = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { message: string; fields: Record<string, unknown> });
  assert.deepEqual(all.map((l) => l.message), ['a', 'b', 'c', 'd\uFFFD', 'e']);
  assert.equal(all[3]?.fields.invalid_utf8, true);
});

test('stdin with the sink down: lines still undelivered when the run ends go to the dead-letter file (a relative path is the config dir\'s)', async (t) => {
  const ws = workspace(t);
  const rx = await startReceiver(t);
  await rx.stop();
  const config = join(ws.dir, 'stdin-to-http.toml');
  writeFileSync(config, `${shipHead(ws.data, 'shutdown_timeout = "1s"')}[dead_letter]
path = "letters/dead.ndjson"
[sources.in]
type = "stdin"
${httpSink('rx', ['in'], rx.url, 'retry = { initial_backoff = "100ms", max_backoff = "200ms" }')}`);
  // Stdin cannot be read again: what the sink did not take by the deadline is kept, with a word.
  const res = await shipStdin(config, 'lost-a\nlost-b\n');
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /"events":2,.*undelivered at shutdown/);
  const letters = readFileSync(join(ws.dir, 'letters', 'dead.ndjson'), 'utf8').split('\n').filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { component: string; reason: string; entry: { message: string } });
  assert.deepEqual(letters.map((l) => [l.component, l.reason, l.entry.message]), [['rx', 'undelivered_at_shutdown', 'lost-a'], ['rx', 'undelivered_at_shutdown', 'lost-b']]);
});

test('stdin whose writer stays silent: SIGTERM ends the run at once, exit 0, lines delivered', async (t) => {
  const ws = workspace(t);
  const out = join(ws.dir, 'out.ndjson');
  const config = join(ws.dir, 'stdin-open.toml');
  // A long shutdown_timeout: a run held open by the pipe would only end when the forced exit
  // (shutdown_timeout + 5 s, exit 70) or the collect timeout came.
  writeFileSync(config, `data_dir = ${q(ws.data)}
listen = "127.0.0.1:0"
shutdown_timeout = "60s"
[sources.in]
type = "stdin"
[sinks.out]
type = "file"
inputs = ["in"]
path = ${q(out)}
batch = { timeout = "50ms" }
`);
  const child = spawn(process.execPath, [cliPath, 'ship', '--config', config], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child, 20_000);
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  child.stdin.write('first\nsecond\n'); // and the pipe stays open, as under `tail -f app.log | opsctl ship`
  await until(() => readIfExists(out).split('\n').length > 2, 'both lines in the output file');
  child.kill('SIGTERM');
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(readIfExists(out).split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { message: string }).message), ['first', 'second']);
});
