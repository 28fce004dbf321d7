import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ack } from '../ack.ts';
import { bufferSchema } from '../schema.ts';
import { entry, testContext } from '../testing.ts';
import { DiskBuffer } from './disk.ts';
import { bufferDirName, createBuffer } from './index.ts';
import { MemoryBuffer } from './memory.ts';

test('createBuffer builds the buffer the config asks for; a disk one lives in <dataDir>/buffers/<sink>', async (t) => {
  const ctx = testContext('s', 'sink');
  t.after(() => { rmSync(ctx.dataDir, { recursive: true, force: true }); });
  const memory = await createBuffer(bufferSchema.parse({}), { sink: 'a', dataDir: ctx.dataDir, metrics: ctx.metrics, log: ctx.log });
  assert.ok(memory instanceof MemoryBuffer);
  await memory.close();
  const disk = await createBuffer(bufferSchema.parse({ type: 'disk', max_bytes: '1MiB' }), { sink: 'b', dataDir: ctx.dataDir, metrics: ctx.metrics, log: ctx.log });
  assert.ok(disk instanceof DiskBuffer);
  await disk.push([entry('x')], new Ack());
  await disk.close();
  assert.ok(existsSync(join(ctx.dataDir, 'buffers', 'b', '00000001.ndjson')));
});

test('a sink name cannot make the buffer dir leave <dataDir>/buffers', () => {
  assert.equal(bufferDirName('loki'), 'loki');
  assert.equal(bufferDirName('../etc'), '..%2Fetc');
  assert.equal(bufferDirName('..'), '%2E%2E');
  assert.equal(bufferDirName('a/b'), 'a%2Fb');
});
