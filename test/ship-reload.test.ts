// End to end: reloading `opsctl ship` by SIGHUP and POST /-/reload. A broken config is reported
// (500, logged, counted) and the old pipeline keeps shipping; a good one replaces the pipeline
// without losing or repeating a line, and without a failing sink holding up the healthy one.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { waitForLine } from './helpers/cli.ts';
import { startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, shipHead, shipWorkspace, startShip, until } from './helpers/ship.ts';

test('reload: a broken config keeps the old pipeline shipping; a good one applies its new filter', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  // Six lines: a key added after them is on line 7 (the reload error below names it).
  const head = shipHead(data) + fileSource('app', log);
  const sink = (input: string): string => httpSink('rx', [input], rx.url, 'batch = { max_events = 100, timeout = "100ms" }');
  writeFileSync(file, head + sink('app'));
  const ship = await startShip(t, file);
  await appendSeqLines(log, 0, 100, { tag: 'keep' });
  await rx.waitForSeqs(0, 100, 20_000, 'keep');

  // Broken: an unknown key. SIGHUP logs the failure, POST answers 500 naming file, line and key.
  writeFileSync(file, `${head}bogus_key = 1\n${sink('app')}`);
  ship.child.kill('SIGHUP');
  assert.match(await waitForLine(ship.child, /"msg":"reload failed, the running config is unchanged"/), /bogus_key/);
  const post = await fetch(`http://${ship.address}/-/reload`, { method: 'POST' });
  assert.equal(post.status, 500);
  assert.match(await post.text(), /ship\.toml:7.*bogus_key/s);
  assert.equal(await ship.metric('opsctl_config_reloads_total', { service: 'ship', result: 'failure' }), 2);
  // The old pipeline still ships.
  await appendSeqLines(log, 100, 200, { tag: 'keep' });
  await rx.waitForSeqs(100, 200, 20_000, 'keep');

  // Good and changed: a filter now drops lines tagged "drop".
  writeFileSync(file, `${head}[transforms.only]
type = "filter"
inputs = ["app"]
condition = "message !~ '^drop '"
${sink('only')}`);
  const ok = await fetch(`http://${ship.address}/-/reload`, { method: 'POST' });
  assert.equal(ok.status, 200, await ok.text());
  assert.equal(await ship.metric('opsctl_config_reloads_total', { service: 'ship', result: 'success' }), 1);
  await appendSeqLines(log, 200, 300, { tag: 'drop' });
  await appendSeqLines(log, 300, 400, { tag: 'keep' });
  // Lines of one file arrive in order: once the later "keep" lines are in, the "drop" ones would be.
  await rx.waitForSeqs(300, 400, 20_000, 'keep');
  assert.equal(rx.seqs('drop').size, 0, 'the new filter did not apply');
  assert.ok(await ship.metric('opsctl_ship_events_dropped_total', { component: 'only', reason: 'filter' }) >= 100);

  // SIGHUP with another good change: back to no filter.
  writeFileSync(file, head + sink('app'));
  ship.child.kill('SIGHUP');
  // The second "config reloaded" (the first was the POST's): only then do the old pipeline's filter
  // and checkpoint no longer see the lines below.
  await waitForLine(ship.child, /"msg":"config reloaded"/, 15_000, 2);
  await appendSeqLines(log, 400, 500, { tag: 'drop' });
  await rx.waitForSeqs(400, 500, 20_000, 'drop');

  // Each pipeline took over at the checkpoint of the one before: no line twice.
  assert.equal(rx.duplicates, 0);
  assert.equal(rx.byMessage.size, 400);
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('a reload while one sink is failing does not stall the healthy sink until shutdown_timeout', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const up = await startReceiver(t);
  const down = await startReceiver(t);
  await down.stop();
  const config = (comment: string): string => [
    `# ${comment}\n`,
    shipHead(data, 'shutdown_timeout = "120s"'),
    fileSource('app', log),
    httpSink('up', ['app'], up.url, 'batch = { timeout = "100ms" }'),
    httpSink('down', ['app'], down.url, 'batch = { timeout = "100ms" }', 'retry = { initial_backoff = "100ms", max_backoff = "500ms" }'),
  ].join('');
  writeFileSync(file, config('first'));
  const ship = await startShip(t, file);
  await appendSeqLines(log, 0, 10);
  await up.waitForSeqs(0, 10);
  writeFileSync(file, config('second'));
  ship.child.kill('SIGHUP');
  await waitForLine(ship.child, /"msg":"reloading config"/);
  // The old pipeline stopped reading as the reload began: these lines are the new pipeline's. The
  // failing sink's entries are safe either way (unacknowledged, read again by the new pipeline), so
  // neither the reload nor the healthy sink should wait shutdown_timeout for it to drain.
  await appendSeqLines(log, 10, 20);
  await up.waitForSeqs(10, 20, 20_000);
  await waitForLine(ship.child, /"msg":"config reloaded"/, 1000);
  await down.restart();
  await down.waitForSeqs(0, 20);
  assert.equal((await ship.stop()).code, 0);
});

test('a reload hands a deleted file over: its unread rest is shipped by the new pipeline', async (t) => {
  const { data, logs, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  rx.behave({ mode: 'status', status: 503 });
  const lines = 20_000;
  await appendSeqLines(log, 0, lines);
  const config = (comment: string): string => `# ${comment}\n${shipHead(data)}${fileSource('app', `${logs}/*.log`)}${httpSink('rx', ['app'], rx.url,
    'batch = { max_events = 500, timeout = "100ms" }', 'buffer = { max_events = 1000 }', 'retry = { initial_backoff = "100ms", max_backoff = "300ms" }')}`;
  writeFileSync(file, config('first'));
  const ship = await startShip(t, file);
  await until(async () => await ship.metric('opsctl_ship_files_open') === 1 && rx.requests > 0, 'the file open and the receiver refusing');
  rmSync(log); // the application's log is deleted while most of it is unread
  await until(async () => await ship.metric('opsctl_ship_files_deleted_open') === 1, 'the deletion seen');
  writeFileSync(file, config('second'));
  ship.child.kill('SIGHUP');
  await waitForLine(ship.child, /"msg":"config reloaded"/, 30_000);
  rx.behave({ mode: 'accept' });
  await rx.waitForSeqs(0, lines, 60_000);
  await until(async () => await ship.metric('opsctl_ship_files_open') === 0, 'the deleted file released once read');
  assert.equal(rx.byMessage.size, lines);
  assert.equal((await ship.stop()).code, 0);
});
