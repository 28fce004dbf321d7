// End to end: delivery when the receiver misbehaves. Down for a while (memory buffer; disk buffer
// across a restart; SIGTERM meanwhile), hanging, 400 (dead letter), 503 until retries run out; SIGTERM
// draining in-flight batches; gzip/JSON-array HTTP bodies and the TCP sink, also when its receiver
// stops reading for a while.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TcpReceiver, seqOf, startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, q, readIfExists, shipHead, shipWorkspace, startShip, until } from './helpers/ship.ts';

/** A file source on an empty app.log and the http sink "rx" posting to `url`, `sinkExtra` added to it. */
function setup(t: { after(fn: () => unknown): void }, url: string, sinkExtra = ''): { data: string; log: string; file: string } {
  const { data, log, file } = shipWorkspace(t);
  writeFileSync(file, shipHead(data, 'shutdown_timeout = "2s"') + fileSource('app', log) + httpSink('rx', ['app'], url,
    'batch = { max_events = 200, timeout = "100ms" }',
    'retry = { initial_backoff = "100ms", max_backoff = "500ms" }',
    sinkExtra));
  return { data, log, file };
}

test('receiver down for a while: lines wait in the memory buffer, then all arrive once it is back', async (t) => {
  const rx = await startReceiver(t);
  await rx.stop();
  const s = setup(t, rx.url, 'buffer = { type = "memory", max_events = 10000 }');
  const ship = await startShip(t, s.file);
  const n = 3000;
  await appendSeqLines(s.log, 0, n);
  // Read and waiting: the sink's buffer holds them while its deliveries fail.
  await until(async () => await ship.metric('opsctl_ship_buffer_events', { sink: 'rx' }) >= n, 'the buffer to hold every line');
  await until(async () => await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' }) >= 3, 'failed deliveries to be retried');
  assert.equal(await ship.metric('opsctl_ship_sink_healthy', { sink: 'rx' }), 0);
  assert.equal(rx.total, 0);
  await rx.restart();
  await rx.waitForSeqs(0, n);
  assert.equal(rx.duplicates, 0);
  assert.equal(rx.total, n);
  await until(async () => await ship.metric('opsctl_ship_sink_healthy', { sink: 'rx' }) === 1, 'the sink to be healthy again');
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('disk buffer: receiver down, shipper stopped and restarted, receiver back: every line delivered from the buffer', async (t) => {
  const rx = await startReceiver(t);
  await rx.stop();
  const s = setup(t, rx.url, 'buffer = { type = "disk", max_bytes = "64MiB" }');
  const first = await startShip(t, s.file);
  const n = 3000;
  await appendSeqLines(s.log, 0, n);
  // Written to the disk buffer: the file's checkpoint moves to its end although nothing was delivered.
  const size = statSync(s.log).size;
  await until(async () => await first.metric('opsctl_ship_file_committed_offset_bytes', { path: s.log }) >= size, 'the disk buffer to acknowledge every line');
  assert.equal(rx.total, 0);
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  // The source file is gone: what arrives now can only come from the disk buffer.
  rmSync(s.log);
  writeFileSync(s.log, '');
  const second = await startShip(t, s.file);
  await rx.restart();
  await rx.waitForSeqs(0, n);
  assert.equal(rx.total, n, 'each line once');
  const res = await second.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('a receiver that hangs: the attempt times out and is retried until the receiver answers', async (t) => {
  const rx = await startReceiver(t);
  rx.behave({ mode: 'hang' });
  const s = setup(t, rx.url, 'request_timeout = "300ms"');
  const ship = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 500);
  await until(async () => await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' }) >= 2, 'timed-out attempts to be retried');
  rx.behave({ mode: 'accept' });
  await rx.waitForSeqs(0, 500);
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('a 400 is not retried: the batch goes to the dead-letter file, counted, and later lines still flow', async (t) => {
  const rx = await startReceiver(t);
  rx.behave({ mode: 'status', status: 400 });
  const s = setup(t, rx.url);
  const ship = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 100, { tag: 'rejected' });
  const deadLetter = join(s.data, 'dead-letter.ndjson');
  const deadSeqs = (): Set<number> => {
    const out = new Set<number>();
    for (const line of readIfExists(deadLetter).split('\n')) {
      // A dead letter carries the entry, wherever it puts it: find the message by its seq.
      const seq = seqOf(line);
      if (seq !== undefined) out.add(seq);
    }
    return out;
  };
  await until(() => deadSeqs().size === 100, 'every rejected line in the dead-letter file');
  assert.equal(await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' }), 0, 'a 400 was retried');
  assert.ok(await ship.metric('opsctl_ship_errors_total', { component: 'rx', error: 'rejected_400' }) >= 100);
  assert.ok(await ship.metric('opsctl_ship_dead_letter_events_total') >= 100);
  rx.behave({ mode: 'accept' });
  await appendSeqLines(s.log, 100, 200);
  await rx.waitForSeqs(100, 200);
  assert.equal(rx.seqs('rejected').size, 0);
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('SIGTERM drains in-flight batches and saves the checkpoint: a restart re-sends at most the chunk it cut', async (t) => {
  const rx = await startReceiver(t);
  // Slow answers keep a batch in flight when SIGTERM arrives; a small buffer keeps the source blocked
  // (so the file is not all read by then); small read chunks make a re-sent batch show.
  rx.behave({ mode: 'accept', delayMs: 150 });
  const s = setup(t, rx.url, 'buffer = { max_events = 400 }');
  writeFileSync(s.file, readFileSync(s.file, 'utf8').replace('shutdown_timeout = "2s"', 'shutdown_timeout = "30s"').replace('poll_interval = "100ms"', 'poll_interval = "100ms"\nread_buffer = "4KiB"'));
  const first = await startShip(t, s.file);
  const n = 5000;
  await appendSeqLines(s.log, 0, n);
  await rx.waitFor(() => rx.total >= 400);
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(rx.total < n, 'the shipper had delivered everything before SIGTERM: nothing was in flight');
  assert.equal(rx.duplicates, 0);

  rx.behave({ mode: 'accept' });
  const second = await startShip(t, s.file);
  await rx.waitForSeqs(0, n);
  // The checkpoint moves per read chunk (4 KiB / 66-byte lines: 62 lines and a partial one), all of
  // whose lines must be delivered; a chunk the stop cut in half is read again. An in-flight batch
  // (200 lines, several chunks) abandoned instead of drained would show as 200 duplicates.
  assert.ok(rx.duplicates <= 63, `the restart re-sent ${rx.duplicates} lines`);
  assert.equal(rx.unique, n);
  const res = await second.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('http with gzip and a JSON array body, and tcp with newline-delimited JSON: every line arrives', async (t) => {
  const rx = await startReceiver(t);
  const tcp = await TcpReceiver.start();
  t.after(() => tcp.close());
  const s = setup(t, rx.url, `encoding = "json"\ncompression = "gzip"
[sinks.tcp]
type = "tcp"
inputs = ["app"]
address = ${q(tcp.address)}
batch = { max_events = 200, timeout = "100ms" }`);
  const ship = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 3000);
  await rx.waitForSeqs(0, 3000);
  await tcp.waitForSeqs(0, 3000);
  assert.equal(rx.lastEncoding, 'gzip');
  assert.match(rx.lastContentType, /^application\/json/);
  assert.equal(rx.invalid, 0);
  assert.equal(tcp.invalid, 0);
  assert.equal(rx.total, 3000);
  assert.equal(tcp.total, 3000);
  assert.equal((await ship.stop()).code, 0);
});

test('tcp receiver that stops reading for longer than request_timeout: every line arrives, in order, as whole lines', async (t) => {
  const tcp = await TcpReceiver.start();
  t.after(() => tcp.close());
  const { data, log, file } = shipWorkspace(t);
  writeFileSync(file, shipHead(data, 'shutdown_timeout = "2s"') + fileSource('app', log) + `[sinks.tcp]
type = "tcp"
inputs = ["app"]
address = ${q(tcp.address)}
request_timeout = "500ms"
batch = { max_events = 1000, timeout = "100ms" }
retry = { initial_backoff = "100ms", max_backoff = "300ms" }
`);
  tcp.pause();
  const ship = await startShip(t, file);
  // About 25 MB of JSON lines: more than the socket buffers of both ends hold.
  const n = 100_000;
  await appendSeqLines(log, 0, n, { perWrite: 5000 });
  await until(async () => await ship.metric('opsctl_ship_sink_retries_total', { sink: 'tcp' }) >= 1, 'a write to time out');
  // Stalled for four request timeouts more: with a new connection per attempt, each would get its share.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  tcp.resume();
  // (waitForSeqs checks on every line: too slow for this many.)
  await until(() => tcp.unique >= n, 'every line to arrive', 30_000);
  assert.deepEqual(tcp.missing(0, n), []);
  assert.equal(tcp.invalid, 0, 'no connection carried part of a line');
  assert.deepEqual(tcp.outOfOrder(), [], 'no line first arrived after a later one');
  assert.ok(tcp.connections >= 2, 'the stall made the sink reconnect');
  // After a stall the batch that timed out is sent again on the next connection: one batch per reconnect.
  assert.ok(tcp.duplicates <= (tcp.connections - 1) * 1000, `${tcp.duplicates} duplicates over ${tcp.connections} connections`);
  assert.equal((await ship.stop()).code, 0);
});

test('memory buffer, receiver down, SIGTERM: the checkpoint did not move, so a restart delivers every line', async (t) => {
  const rx = await startReceiver(t);
  await rx.stop();
  const s = setup(t, rx.url);
  const first = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 2000);
  await until(async () => await first.metric('opsctl_ship_buffer_events', { sink: 'rx' }) >= 2000, 'every line read into the buffer');
  assert.equal(await first.metric('opsctl_ship_file_committed_offset_bytes', { path: s.log }), 0);
  const stopped = await first.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  await rx.restart();
  const second = await startShip(t, s.file);
  await rx.waitForSeqs(0, 2000);
  assert.equal(rx.total, 2000);
  assert.equal((await second.stop()).code, 0);
});

test('retries exhausted: the batch goes to the dead-letter file and is counted, never dropped silently', async (t) => {
  const rx = await startReceiver(t);
  rx.behave({ mode: 'status', status: 503 });
  const s = setup(t, rx.url);
  writeFileSync(s.file, readFileSync(s.file, 'utf8').replace('max_backoff = "500ms" }', 'max_backoff = "500ms", max_retries = 2 }'));
  const ship = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 300);
  const deadLetter = join(s.data, 'dead-letter.ndjson');
  await until(() => {
    try {
      return readFileSync(deadLetter, 'utf8').split('\n').filter((l) => l !== '').length === 300;
    } catch {
      return false;
    }
  }, 'every line in the dead-letter file');
  const seqs = new Set(readFileSync(deadLetter, 'utf8').split('\n').map(seqOf).filter((x) => x !== undefined));
  assert.equal(seqs.size, 300);
  assert.equal(await ship.metric('opsctl_ship_errors_total', { component: 'rx', error: 'retries_exhausted' }), 300);
  // Two retries per batch (300 lines make at least two batches of at most 200), then no more.
  const retries = await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' });
  assert.ok(retries >= 4 && retries % 2 === 0, `${retries} retries`);
  assert.equal((await ship.stop()).code, 0);
});

test('a 429 with Retry-After is retried, not dead-lettered', async (t) => {
  const rx = await startReceiver(t);
  rx.behave({ mode: 'status', status: 429, retryAfterSeconds: 1 });
  const s = setup(t, rx.url);
  const ship = await startShip(t, s.file);
  await appendSeqLines(s.log, 0, 300);
  await until(async () => await ship.metric('opsctl_ship_sink_retries_total', { sink: 'rx' }) >= 2, 'the 429s to be retried');
  rx.behave({ mode: 'accept' });
  await rx.waitForSeqs(0, 300);
  assert.equal(await ship.metric('opsctl_ship_dead_letter_events_total'), 0);
  assert.equal(rx.total, 300);
  assert.equal((await ship.stop()).code, 0);
});
