import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fingerprintOf, matchesTail, readBefore, tailMark, tailOf, type TailCheckpoint } from './identity.ts';

const cp = (over: Partial<TailCheckpoint>): TailCheckpoint => ({ dev: 1, ino: 2, fingerprint: 'f', fingerprintBytes: 1, offset: 100, path: '/x', updated: 1, ...over });

test('tailMark: the last max bytes before end, only when all of them are at hand and hold no NUL', () => {
  const bytes = Buffer.from('0123456789');
  // bytes holds offsets 10..19 of the file
  assert.deepEqual(tailMark(bytes, 10, 18, 4), { end: 18, bytes: 4, fingerprint: fingerprintOf(Buffer.from('4567')) });
  assert.deepEqual(tailMark(bytes, 0, 3, 8), { end: 3, bytes: 3, fingerprint: fingerprintOf(Buffer.from('012')) }); // a file's first bytes
  assert.equal(tailMark(bytes, 10, 12, 4), undefined, 'starts before the bytes at hand');
  assert.equal(tailMark(bytes, 10, 21, 4), undefined, 'ends after them');
  assert.equal(tailMark(bytes, 0, 0, 4), undefined, 'empty');
  assert.equal(tailMark(Buffer.from('ab\0d'), 0, 4, 4), undefined, 'a NUL byte may be a hole filled later');
});

test('tailOf: a well-formed mark within the offset, or nothing (older checkpoints, hand edits)', () => {
  const mark = { end: 100, bytes: 4, fingerprint: 'ab' };
  assert.deepEqual(tailOf(cp({ tail: mark })), mark);
  assert.equal(tailOf(cp({})), undefined);
  assert.equal(tailOf(cp({ tail: { ...mark, end: 101 } })), undefined);
  assert.equal(tailOf(cp({ tail: { ...mark, bytes: 0 } })), undefined);
  assert.equal(tailOf(cp({ tail: { ...mark, bytes: 101 } })), undefined);
  assert.equal(tailOf(cp({ tail: { end: '100', bytes: 4, fingerprint: 'ab' } as unknown as typeof mark })), undefined);
  assert.equal(tailOf(cp({ tail: null as unknown as typeof mark })), undefined);
});

test('matchesTail: an append-only file keeps the bytes before the offset, a same-header replacement does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-identity-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'a.log');
  const header = `#Fields: ${'#'.repeat(300)}\n`;
  const old = `${header}old 1\nold 2\n`;
  writeFileSync(path, old);
  let fh = await open(path, 'r');
  const before = await readBefore(fh, old.length, 8);
  assert.equal(before.toString(), '1\nold 2\n');
  const mark = tailMark(before, old.length - before.length, old.length, 8);
  assert.ok(mark);
  await fh.close();

  writeFileSync(path, `${old}old 3\n`); // appended to (rewritten with the same bytes first)
  fh = await open(path, 'r');
  assert.equal(await matchesTail(fh, mark, await readBefore(fh, old.length, 8), old.length), true);
  // The mark ends before the bytes at hand: it is read from the file.
  assert.equal(await matchesTail(fh, mark, Buffer.alloc(0), old.length), true);
  assert.equal(await matchesTail(fh, undefined, Buffer.alloc(0), old.length), true, 'no mark: as before');
  await fh.close();

  writeFileSync(path, `${header}new 1\nnew 2\nnew 3\n`); // same first 300 bytes, larger, other content
  fh = await open(path, 'r');
  assert.equal(await matchesTail(fh, mark, await readBefore(fh, old.length, 8), old.length), false);
  assert.equal(await matchesTail(fh, mark, Buffer.alloc(0), old.length), false);
  await fh.close();

  writeFileSync(path, header); // shorter than the mark's end
  fh = await open(path, 'r');
  assert.equal(await matchesTail(fh, mark, Buffer.alloc(0), old.length), false);
  assert.equal((await readBefore(fh, old.length, 8)).length, 0);
  await fh.close();
});
