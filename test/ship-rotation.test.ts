// End to end: rotation while a writer appends at speed, by rename (with late writes to the renamed
// file) and by copytruncate; every line reaches the receiver exactly once.
import assert from 'node:assert/strict';
import { copyFile, open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { test } from 'node:test';
import { seqLine, startReceiver, type HttpReceiver } from './helpers/receiver.ts';
import { fileSource, httpSink, shipHead, shipWorkspace, startShip, until } from './helpers/ship.ts';

const lines = 20_000;

/** Writes seqLine(from) .. seqLine(to - 1) through `fh`, 100 lines per write, yielding between writes. */
async function write(fh: FileHandle, from: number, to: number): Promise<void> {
  for (let s = from; s < to; s += 100) {
    let chunk = '';
    for (let i = s; i < Math.min(to, s + 100); i++) chunk += `${seqLine(i)}\n`;
    await fh.write(chunk);
    await yieldNow();
  }
}

const config = (data: string, log: string, url: string): string =>
  shipHead(data) + fileSource('app', log, 'glob_interval = "300ms"') + httpSink('rx', ['app'], url, 'batch = { max_events = 1000, timeout = "200ms" }');

/** Every line received, none twice (neither by id nor by message). */
function assertExactlyOnce(rx: HttpReceiver): void {
  assert.equal(rx.unique, lines, 'distinct ids');
  assert.equal(rx.duplicates, 0, 'entries received twice');
  assert.equal(rx.byMessage.size, lines, 'distinct messages');
  assert.equal(rx.total, lines);
}

test('rotation by rename while writing: the old file is read to its end (late writes too), the new one from its start', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(file, config(data, log, rx.url));
  const ship = await startShip(t, file);

  const old = await open(log, 'a');
  await write(old, 0, lines / 2);
  // logrotate's default: rename, then the application reopens its log some time later, so the
  // renamed file (outside the glob now) still gets lines after the rename.
  await rename(log, `${log}.1`);
  await write(old, lines / 2, lines / 2 + 1000);
  await old.close();
  const fresh = await open(log, 'a');
  await write(fresh, lines / 2 + 1000, lines);
  await fresh.close();

  await rx.waitForSeqs(0, lines, 60_000);
  assertExactlyOnce(rx);
  assert.ok(await ship.metric('opsctl_ship_file_rotations_total', { how: 'rename' }) >= 1, 'the rename was seen as a rotation');
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});

test('rotation by copytruncate while writing: reading starts again at 0 in the truncated file', async (t) => {
  const { data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  writeFileSync(file, config(data, log, rx.url));
  const ship = await startShip(t, file);

  // O_APPEND, as copytruncate requires of the application: after the truncate it writes at 0.
  const fh = await open(log, 'a');
  const first = 8000;
  await write(fh, 0, first);
  // Lines written between the copy and the truncate exist in neither file the shipper reads, and
  // lines not yet read when the copy is taken exist only in the copy (outside the glob): every
  // shipper loses those. So the writer pauses, the shipper catches up, and only then copy+truncate.
  const size = (await stat(log)).size;
  await until(async () => await ship.metric('opsctl_ship_file_read_offset_bytes', { path: log }) >= size, 'the shipper to read the whole file before the copy', 30_000);
  await copyFile(log, `${log}.1`);
  await truncate(log, 0);
  // More than before the truncate, written at once: by the next size check the file is already
  // larger than the old offset, so only its changed first bytes tell that it was truncated.
  await write(fh, first, lines);
  await fh.close();

  await rx.waitForSeqs(0, lines, 60_000);
  assertExactlyOnce(rx);
  assert.ok(await ship.metric('opsctl_ship_file_rotations_total', { how: 'truncate' }) >= 1, 'the truncate was seen');
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});
