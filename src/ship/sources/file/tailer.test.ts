import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext as NodeTestContext } from 'node:test';
import { CheckpointStore } from '../../checkpoint.ts';
import { append, metricValue, testContext, type TestContext } from '../../testing.ts';
import type { Batch } from '../../types.ts';
import { identityKey, matchesTail, readBefore, readFingerprint, tailMark, tailOf, type TailCheckpoint } from './identity.ts';
import type { MultilineOptions } from './multiline.ts';
import { Tailer } from './tailer.ts';

interface Setup { t: Tailer; ctx: TestContext; store: CheckpointStore; key: string }

/** A tailer of `path` at `offset` (with the bytes before it, as the file source opens one), `max` bytes of fingerprint. */
async function tailer(path: string, o: { offset?: number; max?: number; multiline?: MultilineOptions } = {}): Promise<Setup> {
  const max = o.max ?? 16;
  const offset = o.offset ?? 0;
  const ctx = testContext('app', 'source');
  const store = new CheckpointStore({ file: join(ctx.dataDir, 'app.json'), log: ctx.log });
  const fh = await open(path, 'r');
  const st = await fh.stat();
  const fp = await readFingerprint(fh, max);
  const key = identityKey(st.dev, st.ino);
  const t = new Tailer({
    ctx, store, key, path, fh, dev: st.dev, ino: st.ino, fingerprint: fp.fingerprint, fingerprintBytes: fp.bytes,
    maxFingerprintBytes: max, idPrefix: 'p', offset, before: await readBefore(fh, offset, max), size: st.size,
    maxLineBytes: 1024, multiline: o.multiline,
  });
  return { t, ctx, store, key };
}

/** Reads to EOF; returns the batches with entries (acknowledged unless `ack` is false). */
async function drain(t: Tailer, buf: Buffer, ack = true): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let fb = await t.read(buf); fb !== undefined; fb = await t.read(buf)) {
    if (fb.entries.length === 0) continue;
    const b = t.batch(fb);
    if (ack) b.ack.done();
    out.push(b);
  }
  return out;
}

const messages = (batches: Batch[]): string[] => batches.flatMap((b) => b.entries.map((e) => e.message));

function tempFile(t: NodeTestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-tailer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'a.log');
}

const header = `#Fields: date time ${'#'.repeat(40)}\n`; // longer than the 16-byte fingerprint

test('appended: reading goes on, and the checkpoint marks the bytes before the acknowledged offset', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, `${header}one\ntwo\n`);
  const { t: tl, store, key, ctx } = await tailer(path);
  const buf = Buffer.alloc(64);
  assert.deepEqual(messages(await drain(tl, buf)), [header.trimEnd(), 'one', 'two']);
  const size = statSync(path).size;
  const saved = store.get(key) as TailCheckpoint;
  assert.equal(saved.offset, size);
  assert.deepEqual(saved.tail, tailMark(Buffer.from(`${header}one\ntwo\n`), 0, size, 16));
  append(path, 'three\n');
  const later = await drain(tl, buf, false);
  assert.deepEqual(messages(later), ['three']);
  assert.equal(later[0]?.entries[0]?.id, `p:${size}`);
  assert.equal((store.get(key) as TailCheckpoint).tail?.end, size, 'not acknowledged: the mark stays with the checkpoint');
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'truncate' }), undefined);
  await tl.release();
});

test('rewritten in place with the same first bytes, past the read offset: found by the next read, read from 0 with new ids', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, `${header}old 1\nold 2\n`);
  const { t: tl, store, key, ctx } = await tailer(path);
  const buf = Buffer.alloc(64);
  const old = await drain(tl, buf, false);
  const oldSize = statSync(path).size;
  // Between two polls: the size is past the offset and the first bytes are the same.
  writeFileSync(path, `${header}new 1\nnew 2\nnew 3\n`);
  assert.deepEqual(await tl.read(buf), { entries: [], end: 0 });
  assert.equal(tl.offset, 0);
  assert.equal(store.get(key)?.offset, 0);
  assert.equal((store.get(key) as TailCheckpoint).tail, undefined);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'truncate' }), 1);
  for (const b of old) b.ack.done(); // late acks of the old content move nothing
  assert.equal(store.get(key)?.offset, 0);
  const fresh = await drain(tl, buf);
  assert.deepEqual(messages(fresh), [header.trimEnd(), 'new 1', 'new 2', 'new 3']);
  const oldIds = new Set(old.flatMap((b) => b.entries.map((e) => e.id)));
  for (const e of fresh.flatMap((b) => b.entries)) assert.equal(oldIds.has(e.id), false, e.id);
  assert.ok(statSync(path).size > oldSize);
  await tl.release();
});

test('a tailer opened at a checkpoint checks the bytes before it from its first read', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, `${header}old 1\nold 2\n`);
  const offset = statSync(path).size;
  writeFileSync(path, `${header}new 1\nnew 2\nnew 3\n`);
  const { t: tl } = await tailer(path, { offset });
  const buf = Buffer.alloc(64);
  // The tailer was given the new file's bytes: it resumes (the open-time check is matchesTail's).
  assert.deepEqual(messages(await drain(tl, buf)), ['new 3']);
  writeFileSync(path, `${header}old 1\nold 2\nnew 3\nnext\n`);
  assert.deepEqual(await tl.read(buf), { entries: [], end: 0 });
  assert.deepEqual(messages(await drain(tl, buf)), [header.trimEnd(), 'old 1', 'old 2', 'new 3', 'next']);
  await tl.release();
});

test('kept bytes with a NUL (maybe a hole filled later) are not compared', async (t) => {
  const path = tempFile(t);
  writeFileSync(path, `${header}one\n\0\0\0\n`);
  const { t: tl, store, key, ctx } = await tailer(path);
  const buf = Buffer.alloc(64);
  await drain(tl, buf);
  assert.equal(store.get(key)?.offset, header.length + 8);
  assert.equal((store.get(key) as TailCheckpoint).tail?.end, header.length + 4, 'no mark over a NUL: the previous one stays');
  writeFileSync(path, `${header}one\ntwo\nthree\n`);
  assert.deepEqual(messages(await drain(tl, buf)), ['three']);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'truncate' }), undefined);
  await tl.release();
});

test('a batch whose end is no longer at hand keeps the previous mark, which still checks out', async (t) => {
  const path = tempFile(t);
  // E1 ends when E2 starts, but E2's first line spans several small reads: E1's end is out of reach then.
  writeFileSync(path, `E0\nE1\nE2 ${'x'.repeat(60)}\n`);
  const { t: tl, store, key } = await tailer(path, { max: 4, multiline: { startPattern: /^E/, continuationPattern: undefined, maxLines: 10 } });
  const buf = Buffer.alloc(16);
  assert.deepEqual(messages(await drain(tl, buf)), ['E0', 'E1']);
  const saved = store.get(key) as TailCheckpoint;
  assert.equal(saved.offset, 6); // E2 pending
  assert.deepEqual(tailOf(saved), tailMark(Buffer.from('E0\n'), 0, 3, 4)); // E0's: E1's end was not at hand
  const fh = await open(path, 'r');
  assert.equal(await matchesTail(fh, tailOf(saved), await readBefore(fh, 6, 4), 6), true);
  await fh.close();
  append(path, 'E3\n');
  assert.deepEqual(messages(await drain(tl, buf)), [`E2 ${'x'.repeat(60)}`]);
  assert.equal(tailOf(store.get(key) as TailCheckpoint)?.end, 70);
  await tl.release();
});
