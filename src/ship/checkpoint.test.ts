import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { CheckpointStore, writeAtomic, type FileCheckpoint } from './checkpoint.ts';

const cp = (offset: number): FileCheckpoint => ({ dev: 1, ino: 2, fingerprint: 'ab', fingerprintBytes: 2, offset, path: '/x.log', updated: 1 });

test('checkpoints are written in the background and read back by a new store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cp-'));
  const file = join(dir, 'sub', 'app.json');
  const store = new CheckpointStore({ file, log: silentLogger() });
  store.set('1:2', cp(10));
  store.set('1:2', cp(20));
  store.set('3:4', cp(5));
  store.delete('3:4');
  await store.flush();
  const again = new CheckpointStore({ file, log: silentLogger() });
  assert.deepEqual(again.get('1:2'), cp(20));
  assert.equal(again.get('3:4'), undefined);
  // No temp file is left behind.
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['app.json']);
});

test('a corrupt or missing checkpoint file starts empty instead of failing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cp-'));
  const file = join(dir, 'app.json');
  assert.equal([...new CheckpointStore({ file, log: silentLogger() }).entries()].length, 0);
  writeFileSync(file, '{"version":1,"files":');
  assert.equal([...new CheckpointStore({ file, log: silentLogger() }).entries()].length, 0);
});

test('writeAtomic replaces the whole content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cp-'));
  const file = join(dir, 'f');
  await writeAtomic(file, 'one');
  await writeAtomic(file, 'two');
  assert.equal(readFileSync(file, 'utf8'), 'two');
});
