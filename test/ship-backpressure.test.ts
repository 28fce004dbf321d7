// End to end: full buffers. "block" stops the file source (nothing lost), "drop_newest" drops and
// counts every dropped line, and with fan-out a failing sink neither stalls the other one (within its
// buffer) nor lets the checkpoint pass lines it has not delivered.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, shipHead, shipWorkspace, startShip, until } from './helpers/ship.ts';

const head = (data: string, log: string): string =>
  shipHead(data, 'shutdown_timeout = "1s"') + fileSource('app', log, 'read_buffer = "16KiB"');

const sink = (name: string, url: string, extra = ''): string =>
  httpSink(name, ['app'], url,
    'batch = { max_events = 100, timeout = "100ms" }',
    'retry = { initial_backoff = "100ms", max_backoff = "300ms" }',
    extra);

test('when_full = "block": a full buffer stops the file source, memory stays bounded, nothing is lost', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  await rx.stop();
  writeFileSync(file, head(data, log) + sink('rx', rx.url, 'buffer = { max_events = 500, when_full = "block" }'));
  const ship = await startShip(t, file);
  const n = 20_000;
  await appendSeqLines(log, 0, n);
  await until(async () => await ship.metric('opsctl_ship_buffer_events', { sink: 'rx' }) >= 300, 'the buffer to fill');
  await until(async () => await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' }) >= 5, 'a few failed deliveries');
  assert.ok(await ship.metric('opsctl_ship_buffer_events', { sink: 'rx' }) <= 500, 'the buffer grew past max_events');
  const size = statSync(log).size;
  const read = await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log });
  assert.ok(read < size / 10, `the source read ${read} of ${size} bytes while the sink was down`);
  assert.equal(await ship.metric('opsctl_ship_events_dropped_total', { component: 'rx' }), 0);
  // Nothing was acknowledged: the whole file is lag, and it is what is still to be shipped.
  assert.equal(await ship.metric('opsctl_ship_file_committed_offset_bytes', { path: log }), 0);
  await until(async () => await ship.metric('opsctl_ship_file_size_bytes', { path: log }) === size, 'the size gauge');
  assert.equal(await ship.metric('opsctl_ship_file_lag_bytes', { path: log }), size);
  await rx.restart();
  await rx.waitForSeqs(0, n, 60_000);
  assert.equal(rx.duplicates, 0);
  await until(async () => await ship.metric('opsctl_ship_file_lag_bytes', { path: log }) === 0, 'the lag to reach 0 once every line was acknowledged');
  assert.equal((await ship.stop()).code, 0);
});

test('when_full = "drop_newest": the source keeps reading, every line is delivered or counted as dropped', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  await rx.stop();
  writeFileSync(file, head(data, log) + sink('rx', rx.url, 'buffer = { max_events = 300, when_full = "drop_newest" }'));
  const ship = await startShip(t, file);
  const n = 5000;
  await appendSeqLines(log, 0, n);
  const size = statSync(log).size;
  await until(async () => await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log }) >= size, 'the source to read the whole file');
  const dropped = await ship.metric('opsctl_ship_events_dropped_total', { component: 'rx', reason: 'buffer_full' });
  assert.ok(dropped >= n - 300 - 100, `only ${dropped} counted as dropped`);
  await rx.restart();
  await rx.waitFor(() => rx.total + dropped >= n);
  assert.equal(rx.total + dropped, n, `${rx.total} delivered + ${dropped} dropped`);
  assert.equal(rx.duplicates, 0);
  // The first read chunk found the buffer empty: it was kept.
  assert.deepEqual(rx.missing(0, 200), []);
  assert.equal((await ship.stop()).code, 0);
});

test('fan-out: a failing sink does not stall the other, and its lines are read again after kill -9', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const up = await startReceiver(t);
  const down = await startReceiver(t);
  await down.stop();
  writeFileSync(file, head(data, log) + sink('up', up.url) + sink('down', down.url, 'buffer = { max_events = 5000 }'));
  const first = await startShip(t, file);
  const n = 3000;
  await appendSeqLines(log, 0, n);
  // Within the failing sink's buffer, the healthy one gets everything.
  await up.waitForSeqs(0, n);
  assert.equal(down.total, 0);
  // The checkpoint waits for both sinks: it has not moved.
  assert.equal(await first.metric('opsctl_ship_file_committed_offset_bytes', { path: log }), 0);
  const killed = await first.kill();
  assert.equal(killed.signal, 'SIGKILL');

  // The memory buffer of "down" died with the process; the checkpoint brings its lines back.
  await down.restart();
  const second = await startShip(t, file);
  await down.waitForSeqs(0, n);
  // "up" gets them again too: at-least-once, duplicates for the sink that had them.
  await up.waitFor(() => up.total >= 2 * n);
  assert.equal(up.duplicates, n);
  assert.equal(down.duplicates, 0);
  const size = statSync(log).size;
  await until(async () => await second.metric('opsctl_ship_file_committed_offset_bytes', { path: log }) === size, 'the checkpoint to reach the end');
  assert.equal((await second.stop()).code, 0);
});
