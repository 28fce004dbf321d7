// End to end: file identity and life. An inode reused while the shipper is stopped (also by a file
// with the same header), files with identical headers and copies, deleted files still read to
// their end (or given up after max_deleted_hold, counted), multiline events flushed by their
// timeout, read_from = "end", rotated names outside the glob while the shipper lags.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { seqLine, startReceiver, type HttpReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, shipHead, shipWorkspace, startShip, until, workspace, type Shipper } from './helpers/ship.ts';

/** The config of these tests: `source` and `sink` are key lines added to the source and to the sink. */
const config = (data: string, include: string, url: string, source = '', sink = ''): string =>
  shipHead(data, 'shutdown_timeout = "2s"') +
  fileSource('app', include, 'glob_interval = "300ms"', source) +
  httpSink('rx', ['app'], url,
    'batch = { max_events = 100, timeout = "100ms" }',
    'retry = { initial_backoff = "100ms", max_backoff = "300ms" }',
    sink);

const lines = (from: number, to: number, tag: string): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${seqLine(i, tag)}\n`;
  return s;
};

/**
 * Deletes `path` and writes `content` to a new file there until it gets the old inode back (ext4 and
 * tmpfs hand it out again); false when it did not in 50 tries.
 */
function recreateOnSameInode(path: string, content: string): boolean {
  const ino = statSync(path).ino;
  for (let i = 0; i < 50; i++) {
    rmSync(path);
    writeFileSync(path, content);
    if (statSync(path).ino === ino) return true;
  }
  return false;
}

test('an inode reused while the shipper is stopped is a new file: read from its start, new ids', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(log, lines(0, 200, 'old'));
  writeFileSync(file, config(data, log, rx.url));
  const first = await startShip(t, file);
  await rx.waitForSeqs(0, 200, 20_000, 'old');
  assert.equal((await first.stop()).code, 0);

  // Delete it and create files until one gets the old inode back.
  if (!recreateOnSameInode(log, lines(1000, 1400, 'new'))) {
    t.skip('this filesystem did not reuse the inode');
    return;
  }
  // Same device and inode, larger than the saved offset: only the first bytes tell it is another file.
  const second = await startShip(t, file);
  await rx.waitForSeqs(1000, 1400, 20_000, 'new');
  assert.equal(rx.duplicates, 0, 'entries of the new file reused ids of the old one');
  assert.equal(rx.total, 600);
  assert.equal((await second.stop()).code, 0);
});

test('an inode reused while stopped by a file with the same header as the old one is still a new file', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  const header = `#Fields: date time cs-method cs-uri-stem sc-status ${'#'.repeat(250)}\n`;
  writeFileSync(log, header + lines(0, 200, 'old'));
  writeFileSync(file, config(data, log, rx.url));
  const first = await startShip(t, file);
  await rx.waitForSeqs(0, 200, 20_000, 'old');
  assert.equal((await first.stop()).code, 0);
  if (!recreateOnSameInode(log, header + lines(1000, 1400, 'new'))) {
    t.skip('this filesystem did not reuse the inode');
    return;
  }
  // Same device, inode and first 256 bytes, larger than the saved offset: only the bytes before the
  // offset (fingerprinted in the checkpoint) tell that it is another file.
  const second = await startShip(t, file);
  await rx.waitForSeqs(1000, 1400, 10_000, 'new');
  assert.equal(rx.duplicates, 0, 'entries of the new file reused ids of the old one');
  assert.equal(rx.byMessage.get(header.trimEnd())?.length, 2, 'the header line of each file');
  assert.equal(rx.total, 2 * 1 + 200 + 400);
  assert.equal((await second.stop()).code, 0);
});

test('files with identical headers are separate files; a copy of a file continues where that file was read', async (t) => {
  const ws = workspace(t);
  const rx = await startReceiver(t);
  // Longer than the fingerprint (256 bytes): the first bytes of both files are the same.
  const header = `#Software: app 1.0 ${'#'.repeat(300)}\n`;
  writeFileSync(join(ws.logs, 'a.log'), header + lines(0, 300, 'a'));
  writeFileSync(join(ws.logs, 'b.log'), header + lines(0, 300, 'b'));
  const file = join(ws.dir, 'ship.toml');
  writeFileSync(file, config(ws.data, join(ws.logs, '*.log'), rx.url));
  const ship = await startShip(t, file);
  await rx.waitForSeqs(0, 300, 20_000, 'a');
  await rx.waitForSeqs(0, 300, 20_000, 'b');
  // A copy (as a backup or copytruncate makes): another file, with ids of its own, that continues
  // where the file it copies was read instead of sending its lines a second time.
  copyFileSync(join(ws.logs, 'a.log'), join(ws.logs, 'c.log'));
  appendFileSync(join(ws.logs, 'c.log'), `${seqLine(300, 'c')}\n`);
  appendFileSync(join(ws.logs, 'a.log'), `${seqLine(300, 'a')}\n`);
  await rx.waitForSeqs(300, 301, 20_000, 'c');
  await rx.waitForSeqs(300, 301, 20_000, 'a');
  assert.equal(rx.duplicates, 0, 'two files shared entry ids');
  assert.equal(rx.byMessage.get(header.trimEnd())?.length, 2, 'the copy was read again');
  assert.equal(rx.byMessage.get(seqLine(300, 'c'))?.[0]?.source, join(ws.logs, 'c.log'));
  assert.equal(rx.total, 2 * 301 + 2);
  assert.equal((await ship.stop()).code, 0);
});

/**
 * The sink down and a small buffer that blocks (so the source stops reading and most of the file
 * stays unread): starts the shipper, appends 3000 lines, and waits for the buffer to fill. `source`:
 * key lines added to the source.
 */
async function fillWhileDown(t: { after(fn: () => unknown): void }, source: string): Promise<{ log: string; rx: HttpReceiver; ship: Shipper }> {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  await rx.stop();
  writeFileSync(file, config(data, log, rx.url, source, 'buffer = { max_events = 100 }'));
  const ship = await startShip(t, file);
  await appendSeqLines(log, 0, 3000);
  await until(async () => await ship.metric('opsctl_ship_buffer_events', { sink: 'rx' }) >= 50, 'the buffer to fill');
  return { log, rx, ship };
}

test('a file deleted while the sink is down is held open, read to its end once the sink is back, then released', async (t) => {
  const { log, rx, ship } = await fillWhileDown(t, 'read_buffer = "4KiB"\nrotate_wait = "500ms"');
  // Backpressure: the source stopped reading well before the end of the file.
  assert.ok(await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log }) < statSync(log).size / 2);
  rmSync(log);
  await until(async () => await ship.metric('opsctl_ship_files_deleted_open', { component: 'app' }) === 1, 'the deleted file to be counted as held open');
  await rx.restart();
  await rx.waitForSeqs(0, 3000);
  assert.equal(rx.duplicates, 0);
  await until(async () => await ship.metric('opsctl_ship_files_open', { component: 'app' }) === 0, 'the deleted file to be released once read');
  assert.equal(await ship.metric('opsctl_ship_files_deleted_open', { component: 'app' }), 0);
  assert.equal(await ship.metric('opsctl_ship_file_deleted_hold_expired_total'), 0);
  assert.equal((await ship.stop()).code, 0);
});

test('a deleted file held longer than max_deleted_hold while the sink is down is closed and counted', async (t) => {
  const { log, rx, ship } = await fillWhileDown(t, 'read_buffer = "4KiB"\nmax_deleted_hold = "1s"');
  // Backpressure: the source stopped reading well before the end of the file.
  assert.ok(await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log }) < statSync(log).size / 2);
  rmSync(log);
  await until(async () => await ship.metric('opsctl_ship_file_deleted_hold_expired_total', { component: 'app' }) === 1, 'the hold bound to expire');
  assert.equal(await ship.metric('opsctl_ship_files_deleted_open', { component: 'app' }), 0);
  // What was read before comes through; the unread rest of the deleted file is the counted loss.
  await rx.restart();
  await rx.waitFor(() => rx.total >= 100);
  assert.deepEqual(rx.missing(0, 100), []);
  assert.equal((await ship.stop()).code, 0);
});

test('multiline: lines join into events, and the last event is flushed by the timeout', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(file, config(data, log, rx.url, 'multiline = { start_pattern = \'^\\d{4}-\', timeout = "300ms" }'));
  const ship = await startShip(t, file);
  const event = (n: number): string => `2026-11-22T10:00:0${n}Z ERROR seq=${n} failed\n  at handler (app.js:1)\n  at main (app.js:2)\n`;
  writeFileSync(log, event(1) + event(2));
  // Nothing follows the second event: only the timeout can end it.
  await rx.waitFor(() => rx.total >= 2);
  assert.deepEqual(rx.entries.map((e) => e.message), [event(1).trimEnd(), event(2).trimEnd()]);
  // A rename afterwards is a plain rotation, not a reason to re-send an event.
  renameSync(log, `${log}.1`);
  writeFileSync(log, event(3));
  await rx.waitFor(() => rx.total >= 3);
  assert.equal(rx.entries[2]?.message, event(3).trimEnd());
  assert.equal(rx.duplicates, 0);
  assert.equal((await ship.stop()).code, 0);
});

test('read_from = "end": a file present at start is read from its end, a file appearing later from its start', async (t) => {
  const { logs, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(log, lines(0, 100, 'before'));
  writeFileSync(file, config(data, join(logs, '*.log'), rx.url, 'read_from = "end"'));
  const ship = await startShip(t, file);
  await until(async () => await ship.metric('opsctl_ship_files_open', { component: 'app' }) === 1, 'the file to be opened');
  await appendSeqLines(log, 100, 200, { tag: 'after' });
  writeFileSync(join(logs, 'new.log'), lines(200, 300, 'later'));
  await rx.waitForSeqs(100, 200, 20_000, 'after');
  await rx.waitForSeqs(200, 300, 20_000, 'later');
  assert.equal(rx.seqs('before').size, 0);
  assert.equal(rx.total, 200);
  assert.equal((await ship.stop()).code, 0);
});

test('rotated names outside the glob: a rename then kill -9, and a copytruncate, while lagging lose no line', async (t) => {
  // The sink is down and its buffer small, so most of app.log is unread when it is rotated.
  const { log, rx, ship } = await fillWhileDown(t, 'read_buffer = "4KiB"');
  const file = join(log, '..', '..', 'ship.toml'); // the config fillWhileDown wrote
  assert.ok(await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log }) < statSync(log).size / 2);
  // logrotate's rename (the new name is outside the glob, the exact path of app.log), then a crash.
  renameSync(log, `${log}.1`);
  writeFileSync(log, lines(3000, 3100, 'line'));
  await ship.kill();
  await rx.restart();
  const second = await startShip(t, file);
  await rx.waitForSeqs(0, 3100, 30_000);
  // copytruncate while the receiver is down again: the unread rest is only in the copy.
  await rx.stop();
  await appendSeqLines(log, 3100, 6000);
  await until(async () => await second.metric('opsctl_ship_buffer_events', { sink: 'rx' }) >= 50, 'the buffer to fill');
  assert.ok(await second.metric('opsctl_ship_file_read_offset_bytes', { path: log }) < statSync(log).size / 2);
  copyFileSync(log, `${log}.2`);
  writeFileSync(log, lines(6000, 6100, 'line')); // truncate, and the application writes on
  await rx.restart();
  await rx.waitForSeqs(0, 6100, 30_000);
  assert.equal((await second.stop()).code, 0);
});
