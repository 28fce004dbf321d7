import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryError } from '../../core/retry.ts';
import { entry, testContext } from '../testing.ts';
import { file } from './file.ts';
import type { MeasuredWriter } from './writer.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-file-sink-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

function writer(config: Record<string, unknown>): MeasuredWriter {
  return file.create(file.schema.parse({ type: 'file', ...config }), testContext('archive', 'sink'));
}

const signal = new AbortController().signal;
const read = (path: string): string => readFileSync(path, 'utf8');

test('appends NDJSON, creating parent directories', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a', 'b', 'out.ndjson');
  const w = writer({ path });
  t.after(() => w.close?.());
  const batch = [entry('one'), entry('two', { fields: { k: 'v' } })];
  await w.write(batch, signal);
  await w.write([entry('three')], signal);
  const lines = read(path).split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { message: string }).message), ['one', 'two', 'three']);
  assert.deepEqual(JSON.parse(lines[1] ?? ''), batch[1]);
  assert.equal(w.lastBytes, Buffer.byteLength(lines[2] ?? '') + 1);
});

test('rotates at max_size and keeps max_files', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.log');
  const w = writer({ path, encoding: 'text', max_size: 10, max_files: 2 });
  t.after(() => w.close?.());
  // Each batch is 6 bytes ("bN..." + newline): two never fit in 10, so each write after the first rotates.
  for (const m of ['b1xxx', 'b2xxx', 'b3xxx', 'b4xxx']) await w.write([entry(m)], signal);
  assert.deepEqual(readdirSync(dir).sort(), ['out.log', 'out.log.1', 'out.log.2']);
  assert.equal(read(path), 'b4xxx\n');
  assert.equal(read(`${path}.1`), 'b3xxx\n');
  assert.equal(read(`${path}.2`), 'b2xxx\n');
});

test('fills a file up to max_size before rotating', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.log');
  const w = writer({ path, encoding: 'text', max_size: '12', fsync: true });
  t.after(() => w.close?.());
  for (const m of ['aaaaa', 'bbbbb', 'ccccc']) await w.write([entry(m)], signal);
  assert.equal(read(`${path}.1`), 'aaaaa\nbbbbb\n');
  assert.equal(read(path), 'ccccc\n');
});

test('concurrent writes (a shared fallback) go one after the other', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.log');
  const w = writer({ path, encoding: 'text', max_size: 12 });
  await Promise.all(['aaaaa', 'bbbbb', 'ccccc', 'ddddd'].map((m) => w.write([entry(m)], signal)));
  await w.close?.();
  assert.equal(read(`${path}.1`), 'aaaaa\nbbbbb\n');
  assert.equal(read(path), 'ccccc\nddddd\n');
});

test('reopens the file when it was moved or deleted', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.log');
  const w = writer({ path, encoding: 'text' });
  t.after(() => w.close?.());
  await w.write([entry('first')], signal);
  renameSync(path, `${path}.old`);
  await w.write([entry('second')], signal);
  assert.equal(read(`${path}.old`), 'first\n');
  assert.equal(read(path), 'second\n');
  unlinkSync(path);
  await w.write([entry('third')], signal);
  assert.equal(read(path), 'third\n');
});

test('a file that cannot be opened is a retryable failure', { skip: process.getuid?.() === 0 ? 'root ignores permissions' : false }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o500);
  t.after(() => { chmodSync(dir, 0o700); });
  const w = writer({ path: join(dir, 'out.log') });
  t.after(() => w.close?.());
  await assert.rejects(w.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && err.retryable && err.details.error === 'EACCES');
});

test('a path under a regular file is a retryable failure', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.log');
  const w = writer({ path });
  await w.write([entry('x')], signal);
  await w.close?.();
  const under = writer({ path: join(path, 'nested.log') });
  t.after(() => under.close?.());
  await assert.rejects(under.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && err.retryable && /^(ENOTDIR|EEXIST)$/.test(String(err.details.error)));
});

test('an entry that cannot be encoded is written with encode_error and counted', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.ndjson');
  const ctx = testContext('archive', 'sink');
  const w = file.create(file.schema.parse({ type: 'file', path }), ctx);
  t.after(() => w.close?.());
  await w.write([entry('ok'), entry('bad', { fields: { n: 10n } })], signal);
  const lines = read(path).trim().split('\n').map((l) => JSON.parse(l) as { message: string; fields: Record<string, unknown> });
  assert.deepEqual(lines.map((l) => l.message), ['ok', 'bad']);
  assert.match(String(lines[1]?.fields.encode_error), /BigInt/);
  const metric = await ctx.registry.getSingleMetric('opsctl_ship_errors_total')?.get();
  assert.equal(metric?.values.find((v) => v.labels.error === 'encode')?.value, 1);
});
