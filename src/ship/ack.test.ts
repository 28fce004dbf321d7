import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ack } from './ack.ts';

test('an ack completes once every retained part is done, and only once', () => {
  let completed = 0;
  const ack = new Ack(() => { completed++; });
  ack.retain(2);
  ack.done();
  ack.done();
  assert.equal(completed, 0);
  assert.equal(ack.pending, 1);
  ack.done();
  assert.equal(completed, 1);
  assert.throws(() => ack.done(), /too often/);
  assert.throws(() => ack.retain(), /after completion/);
  assert.equal(completed, 1);
});
