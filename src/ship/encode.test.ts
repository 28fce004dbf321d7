import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEntry, entrySize } from './encode.ts';
import { entry } from './testing.ts';

test('entrySize counts the fields, so byte bounds hold for parsed entries', () => {
  const bare = entry('GET /');
  const parsed = entry('GET /', { fields: { method: 'GET', path: '/', status: 200, agent: 'x'.repeat(500) } });
  assert.ok(entrySize(parsed) > entrySize(bare) + 500);
  // Near the encoded size, within the rough overhead allowed for ids and timestamps.
  for (const e of [bare, parsed]) {
    const encoded = Buffer.byteLength(encodeEntry(e));
    assert.ok(Math.abs(entrySize(e) - encoded) < 128, `${entrySize(e)} against ${encoded} encoded bytes`);
  }
});
