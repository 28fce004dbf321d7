import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { z } from 'zod';
import { append, metricValue, testContext, type TestContext } from '../testing.ts';
import type { Batch, LogEntry } from '../types.ts';
import { file } from './file.ts';

type Input = Omit<z.input<typeof file.schema>, 'type'>;

interface Harness {
  ctx: TestContext;
  batches: Batch[];
  entries(): LogEntry[];
  messages(): string[];
  stop(): Promise<void>;
}

/** Runs a file source with fast intervals; `hold` keeps acks for the test to complete. */
function start(config: Input, options: { dataDir?: string; ack?: boolean; emit?: (b: Batch) => Promise<void> } = {}): Harness {
  const ctx = testContext('app', 'source', options.dataDir ? { dataDir: options.dataDir } : {});
  const parsed = file.schema.parse({ type: 'file', poll_interval: '20ms', glob_interval: '50ms', rotate_wait: '150ms', ...config });
  const source = file.create(parsed, ctx);
  const batches: Batch[] = [];
  const controller = new AbortController();
  const emit = options.emit ?? ((b: Batch): Promise<void> => {
    batches.push(b);
    if (options.ack !== false) b.ack.done();
    return Promise.resolve();
  });
  const running = source.run(emit, controller.signal);
  const entries = (): LogEntry[] => batches.flatMap((b) => b.entries);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => stopped ??= (async () => {
    controller.abort();
    await running;
    await source.close();
  })();
  running_.push(stop);
  return { ctx, batches, entries, messages: () => entries().map((e) => e.message), stop };
}

// Sources of failed tests are stopped too, so the process can end.
const running_: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of running_) await stop();
});

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'opsctl-file-source-'));
}

type Saved = Record<string, { offset: number; fingerprint: string; fingerprintBytes: number }>;
/** The saved checkpoints ({} before the first write). */
function checkpoints(dataDir: string): Saved {
  const file = join(dataDir, 'checkpoints', 'app.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { files: Saved }).files;
}

const lines = (from: number, to: number, tag = 'line'): string => Array.from({ length: to - from }, (_, i) => `${tag} ${from + i}\n`).join('');

test('schema: exactly one multiline pattern, and a valid regex', () => {
  const base = { type: 'file', include: ['/x/*.log'] };
  assert.equal(file.schema.safeParse({ ...base, multiline: {} }).success, false);
  assert.equal(file.schema.safeParse({ ...base, multiline: { start_pattern: '^a', continuation_pattern: '^b' } }).success, false);
  assert.equal(file.schema.safeParse({ ...base, multiline: { start_pattern: '([' } }).success, false);
  assert.equal(file.schema.safeParse({ ...base, include: [] }).success, false);
  const ok = file.schema.parse({ ...base, multiline: { start_pattern: '^\\d' } });
  assert.equal(ok.multiline?.timeout, 1000);
  assert.equal(ok.read_buffer, 256 * 1024);
});

test('reads lines with stable ids, strips "\\r", holds back the partial last line', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, 'one\r\ntwo\npart');
  mkdirSync(join(dir, 'sub.log')); // a directory matched by the glob is ignored
  const h = start({ include: [join(dir, '*.log'), join(dir, 'none-*.txt')] });
  await until(() => h.entries().length >= 2, 'two lines');
  const [a, b] = h.entries();
  assert.equal(a?.message, 'one');
  assert.equal(b?.message, 'two');
  assert.equal(a?.source, path);
  assert.equal(a?.level, 'unknown');
  assert.match(a?.id ?? '', /^[0-9a-z]+:0$/);
  assert.equal(b?.id, `${a?.id.split(':')[0]}:5`);
  assert.notEqual(a?.fields, b?.fields);
  assert.match(a?.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  append(path, 'ial\nthree\n');
  await until(() => h.entries().length >= 4, 'more lines');
  assert.deepEqual(h.messages(), ['one', 'two', 'partial', 'three']);
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_file_committed_offset_bytes', { path })) === statSync(path).size, 'committed gauge');
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' }), 1);
  append(path, 'tail without newline');
  await new Promise((r) => setTimeout(r, 100));
  await h.stop();
  // Not emitted at shutdown: the next start reads it whole once it is complete.
  assert.equal(h.entries().length, 4);
  assert.equal(Object.values(checkpoints(h.ctx.dataDir))[0]?.offset, 23);
  rmSync(dir, { recursive: true, force: true });
});

test('a short file is refingerprinted as it grows and still resumed after a restart', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, 'a\n');
  const first = start({ include: [path], fingerprint_bytes: 64 });
  await until(() => first.entries().length === 1, 'first line');
  append(path, lines(0, 20));
  await until(() => first.entries().length === 21, 'more lines');
  await until(() => Object.values(checkpoints(first.ctx.dataDir))[0]?.fingerprintBytes === 64, 'longer fingerprint');
  await first.stop();
  append(path, 'after restart\n');
  const second = start({ include: [path], fingerprint_bytes: 64 }, { dataDir: first.ctx.dataDir });
  await until(() => second.entries().length === 1, 'new line');
  assert.deepEqual(second.messages(), ['after restart']);
  assert.equal(second.entries()[0]?.id.split(':')[0], first.entries()[0]?.id.split(':')[0]);
  await second.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('checkpoints of files unseen for long, or past the bound, are pruned', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, 'x\n');
  const dataDir = tempDir();
  mkdirSync(join(dataDir, 'checkpoints'));
  const cp = (updated: number, ino: number): object => ({ dev: 1, ino, fingerprint: 'f', fingerprintBytes: 1, offset: 1, path: '/gone', updated });
  const now = Date.now();
  writeFileSync(join(dataDir, 'checkpoints', 'app.json'), JSON.stringify({ version: 1, files: {
    '1:1': cp(now - 48 * 3_600_000, 1), '1:2': cp(now - 60_000, 2), '1:3': cp(now - 120_000, 3), '1:4': cp(now - 1000, 4),
  } }));
  const h = start({ include: [path], max_checkpoints: 3 }, { dataDir });
  await until(() => h.entries().length === 1, 'line');
  await h.stop();
  assert.deepEqual(Object.keys(checkpoints(dataDir)).filter((k) => k.startsWith('1:')).sort(), ['1:2', '1:4']);
  assert.equal(Object.keys(checkpoints(dataDir)).length, 3);
  rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test('restart resumes at the acknowledged checkpoint with the same ids (at-least-once)', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 10));
  const first = start({ include: [path] }, { ack: false });
  await until(() => first.entries().length === 10, 'first read');
  const ids = new Map(first.entries().map((e) => [e.message, e.id]));
  await first.stop(); // nothing acknowledged
  const dataDir = first.ctx.dataDir;
  const second = start({ include: [path] }, { dataDir, ack: false });
  await until(() => second.entries().length === 10, 'reread');
  for (const e of second.entries()) assert.equal(e.id, ids.get(e.message));
  // Ack the batch: the checkpoint moves to its end; then the next start reads only new lines.
  for (const b of second.batches) b.ack.done();
  await second.stop();
  assert.equal(Object.values(checkpoints(dataDir))[0]?.offset, statSync(path).size);
  append(path, lines(10, 12));
  const third = start({ include: [path] }, { dataDir });
  await until(() => third.entries().length === 2, 'new lines');
  assert.deepEqual(third.messages(), ['line 10', 'line 11']);
  assert.equal(third.entries()[0]?.id, `${ids.get('line 0')?.split(':')[0]}:${lines(0, 10).length}`);
  await third.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('read_from = "end" skips existing content of files without a checkpoint', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 5));
  const h = start({ include: [join(dir, '*.log')], read_from: 'end' });
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'file open');
  append(path, 'new\n');
  const later = join(dir, 'b.log'); // appeared after start: read from its start
  writeFileSync(later, 'b0\n');
  await until(() => h.entries().length >= 2, 'new lines');
  assert.deepEqual(h.messages().sort(), ['b0', 'new']);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a file truncated while stopped, or an inode reused, is read from 0', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 20));
  const first = start({ include: [path] });
  await until(() => first.entries().length === 20, 'first read');
  await first.stop();
  writeFileSync(path, 'line 0\nshort\n'); // same inode, smaller than the checkpoint
  const second = start({ include: [path] }, { dataDir: first.ctx.dataDir });
  await until(() => second.entries().length === 2, 'reread from 0');
  assert.deepEqual(second.messages(), ['line 0', 'short']);
  assert.notEqual(second.entries()[0]?.id, first.entries()[0]?.id); // new content, new ids (receivers de-duplicate by id)
  await second.stop();
  // Same device and inode, different first bytes, bigger than the offset: an inode reuse.
  writeFileSync(path, `${'other file\n'.repeat(30)}`);
  const third = start({ include: [path] }, { dataDir: first.ctx.dataDir });
  await until(() => third.entries().length === 30, 'new file read from 0');
  await third.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('rewritten while stopped with the same first bytes, larger than the checkpoint: read from 0 with new ids', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  const header = `#Fields: ${'#'.repeat(300)}\n`; // longer than the fingerprint
  writeFileSync(path, header + lines(0, 20, 'old'));
  const first = start({ include: [path] });
  await until(() => first.entries().length === 21, 'first read');
  await first.stop();
  writeFileSync(path, header + lines(0, 40, 'new')); // same inode, same first bytes, past the offset
  const second = start({ include: [path] }, { dataDir: first.ctx.dataDir });
  await until(() => second.entries().length === 41, 'new file read from 0');
  assert.deepEqual(second.messages(), [header.trimEnd(), ...lines(0, 40, 'new').trimEnd().split('\n')]);
  const old = new Set(first.entries().map((e) => e.id));
  assert.equal(second.entries().filter((e) => old.has(e.id)).length, 0);
  await second.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a checkpoint without the mark of the bytes before its offset (older versions) resumes as before', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 10));
  const first = start({ include: [path] });
  await until(() => first.entries().length === 10, 'first read');
  await first.stop();
  const file = join(first.ctx.dataDir, 'checkpoints', 'app.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { tail?: unknown }> };
  for (const cp of Object.values(saved.files)) {
    assert.ok(cp.tail);
    delete cp.tail;
  }
  writeFileSync(file, JSON.stringify(saved));
  append(path, lines(10, 12));
  const second = start({ include: [path] }, { dataDir: first.ctx.dataDir });
  await until(() => second.entries().length === 2, 'new lines');
  assert.deepEqual(second.messages(), ['line 10', 'line 11']);
  assert.equal(second.entries()[0]?.id.split(':')[0], first.entries()[0]?.id.split(':')[0]);
  await second.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('two files with the same first bytes are two files', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.log'), 'header\nsame\n');
  writeFileSync(join(dir, 'b.log'), 'header\nsame\n');
  const h = start({ include: [join(dir, '*.log')] });
  await until(() => h.entries().length === 4, 'both files');
  assert.equal(new Set(h.entries().map((e) => e.id)).size, 4);
  await h.stop();
  assert.equal(Object.keys(checkpoints(h.ctx.dataDir)).length, 2);
  rmSync(dir, { recursive: true, force: true });
});

test('rotation by rename while a writer appends: nothing lost or duplicated', async () => {
  const dir = tempDir();
  const path = join(dir, 'app.log');
  const h = start({ include: [path] });
  const total = 6000;
  let fd = openSync(path, 'a');
  // The file must be known before it is renamed away (a file created and rotated between two scans is never seen).
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'file open');
  for (let i = 0; i < total; i++) {
    if (i === 3000) {
      renameSync(path, `${path}.1`);
      writeSync(fd, lines(i, i + 100, 'late')); // the old writer still writes to the renamed file
      closeSync(fd);
      fd = openSync(path, 'a');
    }
    writeSync(fd, `line ${i}\n`);
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  closeSync(fd);
  await until(() => h.entries().length >= total + 100, 'all lines');
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'old file released');
  const got = h.messages();
  assert.equal(got.length, total + 100);
  const unique = new Set(got);
  assert.equal(unique.size, total + 100);
  for (let i = 0; i < total; i++) if (!unique.has(`line ${i}`)) assert.fail(`missing line ${i}`);
  for (let i = 3000; i < 3100; i++) if (!unique.has(`late ${i}`)) assert.fail(`missing late line ${i}`);
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'rename' }), 1);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a file renamed to another matched path keeps being followed there', async () => {
  const dir = tempDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, 'old 0\n');
  const h = start({ include: [join(dir, '*.log')] });
  await until(() => h.entries().length === 1, 'first line');
  renameSync(path, join(dir, 'app.1.log')); // sorts before app.log
  writeFileSync(path, 'new 0\n');
  await until(() => h.entries().length === 2, 'new file');
  append(join(dir, 'app.1.log'), 'old 1\n');
  await until(() => h.entries().length === 3, 'late line of the renamed file');
  await new Promise((r) => setTimeout(r, 300)); // past rotate_wait: still matched, so still open
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' }), 2);
  assert.deepEqual(h.entries().map((e) => [e.message, e.source]), [['old 0', path], ['new 0', path], ['old 1', join(dir, 'app.1.log')]]);
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'rename' }), 1);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a new file is found by watching its directory, before the next scan', async () => {
  const dir = tempDir();
  const h = start({ include: [join(dir, '*.log')], glob_interval: '1h' });
  await new Promise((r) => setTimeout(r, 100)); // the first scan found nothing
  writeFileSync(join(dir, 'new.log'), 'hello\n');
  await until(() => h.entries().length === 1, 'the new file read');
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('copytruncate: reading starts again at 0 and acks of the old content do not move the checkpoint', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 100));
  const h = start({ include: [path] }, { ack: false });
  await until(() => h.entries().length === 100, 'old content');
  const old = [...h.batches];
  truncateSync(path, 0);
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'truncate' })) === 1, 'truncation seen');
  append(path, 'new 0\nnew 1\n');
  await until(() => h.entries().length === 102, 'new content');
  for (const b of old) b.ack.done(); // late acks of the old generation
  for (const b of h.batches.slice(old.length)) b.ack.done();
  await h.stop();
  assert.deepEqual(h.messages().slice(100), ['new 0', 'new 1']);
  assert.equal(Object.values(checkpoints(h.ctx.dataDir))[0]?.offset, 12);
  rmSync(dir, { recursive: true, force: true });
});

test('a deleted file is read to its end, then released with its gauges', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 3));
  const h = start({ include: [path] });
  await until(() => h.entries().length === 3, 'lines');
  const fd = openSync(path, 'a');
  unlinkSync(path);
  writeSync(fd, 'after delete\nno newline');
  closeSync(fd);
  await until(() => h.entries().length === 5, 'late line and the partial one, flushed on release');
  assert.deepEqual(h.messages().slice(3), ['after delete', 'no newline']);
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 0, 'released');
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_file_read_offset_bytes', { path }), undefined);
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_files_deleted_open', { component: 'app' }), 0);
  await h.stop();
  assert.deepEqual(checkpoints(h.ctx.dataDir), {}); // a deleted file's checkpoint is forgotten (inode reuse)
  rmSync(dir, { recursive: true, force: true });
});

test('a deleted file held past max_deleted_hold while sinks block is closed and counted', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 50_000));
  const h = start({ include: [path], read_buffer: '4KiB', max_deleted_hold: '1s' }, { emit: () => new Promise(() => undefined) });
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'open');
  unlinkSync(path);
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_deleted_open', { component: 'app' })) === 1, 'held while deleted');
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_file_deleted_hold_expired_total', { component: 'app' })) === 1, 'expiry');
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' }), 0);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a long line is truncated and counted, invalid UTF-8 is replaced and counted', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, Buffer.concat([Buffer.from(`${'x'.repeat(3_000_000)}\nok\n`), Buffer.from([0x62, 0xff, 0x0a])]));
  const h = start({ include: [path], max_line_bytes: '1KiB', read_buffer: '64KiB' });
  await until(() => h.entries().length === 3, 'lines');
  const [long, ok, bad] = h.entries();
  assert.equal(long?.message.length, 1024);
  assert.deepEqual(long?.fields, { truncated: true, original_bytes: 3_000_000 });
  assert.deepEqual(ok?.fields, {});
  assert.equal(bad?.message, 'b\ufffd');
  assert.deepEqual(bad?.fields, { invalid_utf8: true });
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_errors_total', { error: 'truncated' }), 1);
  assert.equal(await metricValue(h.ctx.registry, 'opsctl_ship_errors_total', { error: 'invalid_utf8' }), 1);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('multiline: events joined, flushed on timeout, checkpoint never past a pending event', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, 'E1 start\n  at a\n  at b\nE2 start\n  at c\n');
  const h = start({ include: [path], multiline: { start_pattern: '^E\\d', timeout: '60s', max_lines: 3 } });
  await until(() => h.entries().length === 1, 'first event');
  assert.equal(h.messages()[0], 'E1 start\n  at a\n  at b');
  await until(() => Object.values(checkpoints(h.ctx.dataDir))[0]?.offset === 23, 'checkpoint at the end of the first event');
  append(path, 'E3\n');
  await until(() => h.entries().length === 2, 'second event');
  assert.equal(h.messages()[1], 'E2 start\n  at c');
  assert.equal(h.entries()[1]?.id.endsWith(':23'), true);
  await h.stop();
  assert.equal(Object.values(checkpoints(h.ctx.dataDir))[0]?.offset, 39); // "E3" still pending
  const quiet = start({ include: [path], multiline: { continuation_pattern: '^\\s', timeout: '100ms' } }, { dataDir: h.ctx.dataDir });
  await until(() => quiet.entries().length === 1, 'pending event flushed by its timeout');
  assert.equal(quiet.messages()[0], 'E3');
  await quiet.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('backpressure: a pending emit stops reading', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, '');
  const h = start({ include: [path], read_buffer: '64KiB' }, { emit: () => new Promise(() => undefined) });
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'open');
  const block = lines(0, 1000);
  const fd = openSync(path, 'a');
  for (let written = 0; written < 50 * 1024 * 1024; written += block.length) writeSync(fd, block);
  closeSync(fd);
  await until(async () => ((await metricValue(h.ctx.registry, 'opsctl_ship_bytes_in_total', { component: 'app' })) ?? 0) > 0, 'a first chunk');
  await new Promise((r) => setTimeout(r, 300));
  const read = (await metricValue(h.ctx.registry, 'opsctl_ship_bytes_in_total', { component: 'app' })) ?? 0;
  assert.ok(read <= 2 * 64 * 1024, `read ${read} bytes`);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('fairness: files are read in turn, a batch is at most one chunk', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.log'), lines(0, 20_000, 'a'));
  writeFileSync(join(dir, 'b.log'), lines(0, 20_000, 'b'));
  const h = start({ include: [join(dir, '*.log')], read_buffer: '16KiB' });
  await until(() => h.entries().length === 40_000, 'all lines');
  const order = h.batches.map((b) => b.entries[0]?.source.endsWith('a.log') ? 'a' : 'b');
  assert.deepEqual(order.slice(0, 6), ['a', 'b', 'a', 'b', 'a', 'b']);
  for (const b of h.batches) assert.ok(b.entries.reduce((n, e) => n + e.message.length + 1, 0) <= 16 * 1024 + 16); // a chunk, and the line it completes
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an unreadable file is warned about once, skipped, and read once it can be', async () => {
  const dir = tempDir();
  chmodSync(dir, 0o777); // the child may run as nobody
  const path = join(dir, 'a.log');
  writeFileSync(path, 'secret\n');
  chmodSync(path, 0o000);
  const asRoot = process.getuid?.() === 0;
  const child = spawn(process.execPath, [join(import.meta.dirname, 'file', 'testdata', 'tail-child.ts'), path, dir], {
    stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    await until(() => err.includes('cannot open file'), 'the warning');
    await new Promise((r) => setTimeout(r, 300)); // several scans
    assert.equal(out, '');
    assert.equal(err.split('cannot open file').length - 1, 1, err);
    chmodSync(path, 0o644);
    await until(() => out === 'secret\n', 'the line once readable');
  } finally {
    child.kill();
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});

// Issue 16: entry ids unique per file generation, rotated files outside the glob, copytruncate copies.

test('a file first seen empty gets an identity of its own: no two files share ids, even on a reused inode', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, '');
  // Two shippers (two data dirs) that each first see the empty file: their ids are their own.
  const first = start({ include: [join(dir, '*.log')] });
  const second = start({ include: [join(dir, '*.log')] });
  await until(async () => (await metricValue(first.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1
    && (await metricValue(second.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'both opened the empty file');
  append(path, 'old line 1\n');
  await until(() => first.entries().length === 1 && second.entries().length === 1, 'the line read by both');
  assert.notEqual(first.entries()[0]?.id, second.entries()[0]?.id);
  await second.stop();
  // The file is deleted (its checkpoint forgotten) and a new empty file takes its place, on the
  // same inode when the file system reuses it (ext4 does): the new lines get new ids.
  const ino = statSync(path).ino;
  unlinkSync(path);
  await until(async () => (await metricValue(first.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 0, 'deleted file released');
  writeFileSync(path, '');
  const reused = statSync(path).ino === ino;
  await until(async () => (await metricValue(first.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'new file opened');
  append(path, 'NEW LINE 1\n');
  await until(() => first.entries().length === 2, 'the new line');
  const [old, fresh] = first.entries();
  assert.equal(fresh?.message, 'NEW LINE 1');
  assert.notEqual(fresh?.id, old?.id, `same id for two lines${reused ? ' (inode reused)' : ''}`);
  // Stable for the same bytes: a restart on the same data dir gives the line its id again.
  await first.stop();
  const again = start({ include: [join(dir, '*.log')] }, { dataDir: first.ctx.dataDir });
  append(path, 'NEW LINE 2\n');
  await until(() => again.entries().length === 1, 'the next line after a restart');
  assert.equal(again.entries()[0]?.id.split(':')[0], fresh?.id.split(':')[0]);
  await again.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An emit that acknowledges the first `n` batches and holds the others (their acks are released by the returned function). */
function ackFirst(n: number): { emit: (b: Batch) => Promise<void>; batches: Batch[]; release: () => void } {
  const batches: Batch[] = [];
  return {
    batches,
    emit: (b) => {
      batches.push(b);
      if (batches.length <= n) b.ack.done();
      return Promise.resolve();
    },
    release: () => { for (const b of batches.slice(n)) b.ack.done(); },
  };
}

test('a file renamed outside the glob while stopped is found by its inode and read to its end', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 3000));
  // Only the first chunk is acknowledged before the stop (a shipper that lags, then is killed).
  const held = ackFirst(1);
  const first = start({ include: [join(dir, '*.log')], read_buffer: '8KiB' }, { emit: held.emit });
  await until(() => held.batches.length >= 3, 'a few chunks read');
  const acked = held.batches[0]?.entries.length ?? 0;
  const firstIds = new Map(held.batches.flatMap((b) => b.entries).map((e) => [e.message, e.id]));
  await first.stop();
  renameSync(path, `${path}.1`); // logrotate while opsctl was down: the new name is outside *.log
  writeFileSync(path, 'fresh 0\n');
  const second = start({ include: [join(dir, '*.log')], read_buffer: '8KiB' }, { dataDir: first.ctx.dataDir });
  await until(() => second.messages().includes('line 2999') && second.messages().includes('fresh 0'), 'the rest of the renamed file and the new one');
  const got = second.messages().filter((m) => m.startsWith('line '));
  assert.deepEqual(got, lines(acked, 3000).trimEnd().split('\n'), 'the renamed file resumes at its checkpoint, in order');
  for (const e of second.entries()) if (firstIds.has(e.message)) assert.equal(e.id, firstIds.get(e.message), 'same ids as before the stop');
  await until(async () => (await metricValue(second.ctx.registry, 'opsctl_ship_files_open', { component: 'app' })) === 1, 'the renamed file released once read');
  await second.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('copytruncate while lagging, the copy outside the glob: the unread rest is read from the copy', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 3000));
  const held = ackFirst(1);
  let block: (() => void) | undefined;
  // Lagging: the second emit waits until the test lets it go, so reading stops after two chunks.
  const emit = (b: Batch): Promise<void> => {
    const p = held.emit(b);
    return held.batches.length === 2 ? new Promise((resolve) => { block = resolve; }) : p;
  };
  const h = start({ include: [join(dir, '*.log')], read_buffer: '8KiB' }, { emit });
  await until(() => block !== undefined, 'the source blocked');
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  append(path, lines(0, 10, 'new'));
  block?.();
  held.release();
  const messages = (): string[] => held.batches.flatMap((b) => b.entries).map((e) => e.message);
  await until(() => messages().includes('line 2999') && messages().includes('new 9'), 'the old lines from the copy and the new ones');
  const old = messages().filter((m) => m.startsWith('line '));
  assert.deepEqual([...new Set(old)].sort(), lines(0, 3000).trimEnd().split('\n').sort(), 'every old line');
  assert.ok(await metricValue(h.ctx.registry, 'opsctl_ship_file_rotations_total', { how: 'truncate' }) === 1);
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('copytruncate with the copy inside the glob: the copy continues from the checkpoint, it is not read again', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.log');
  writeFileSync(path, lines(0, 3000));
  const h = start({ include: [join(dir, 'a.log*')] });
  await until(async () => (await metricValue(h.ctx.registry, 'opsctl_ship_file_committed_offset_bytes', { path })) === statSync(path).size, 'all read and acknowledged');
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  append(path, lines(0, 10, 'new'));
  append(`${path}.1`, 'late 0\n'); // a late write to the copy (none in practice, but it must be read)
  await until(() => h.messages().includes('new 9') && h.messages().includes('late 0'), 'new lines in both files');
  await new Promise((r) => setTimeout(r, 300));
  const old = h.messages().filter((m) => m.startsWith('line '));
  assert.equal(old.length, 3000, 'no old line read twice');
  const late = h.entries().find((e) => e.message === 'late 0');
  assert.notEqual(late?.id.split(':')[0], h.entries()[0]?.id.split(':')[0], 'the copy has ids of its own (both files may grow)');
  assert.equal(new Set(h.entries().map((e) => e.id)).size, h.entries().length, 'no id twice');
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});
