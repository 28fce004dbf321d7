// The ring: FIFO order, the oldest dropped when full, wrap-around.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ring, defaultRingCapacity } from './ring.ts';

test('items come out oldest first', () => {
  const ring = new Ring<number>(3);
  assert.equal(ring.push(1), undefined);
  assert.equal(ring.push(2), undefined);
  assert.equal(ring.peek(), 1);
  assert.equal(ring.shift(), 1);
  assert.equal(ring.shift(), 2);
  assert.equal(ring.shift(), undefined);
  assert.equal(ring.length, 0);
});

test('when full the oldest is dropped and returned', () => {
  const ring = new Ring<number>(3);
  const dropped: number[] = [];
  for (let i = 0; i < 10; i++) {
    const d = ring.push(i);
    if (d !== undefined) dropped.push(d);
  }
  assert.deepEqual(dropped, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(ring.length, 3);
  assert.deepEqual(ring.drain(), [7, 8, 9]);
});

test('order holds across wrap-around with interleaved shifts', () => {
  const ring = new Ring<number>(4);
  const out: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < (round % 3) + 1; i++) ring.push(next++);
    const s = ring.shift();
    if (s !== undefined) out.push(s);
  }
  out.push(...ring.drain());
  // Strictly increasing: nothing reordered or repeated; the gaps are the drops.
  assert.ok(out.every((v, i) => i === 0 || v > (out[i - 1] as number)));
  assert.equal(out.at(-1), next - 1);
});

test('capacity defaults to 1024 and must be a positive integer', () => {
  assert.equal(new Ring().capacity, defaultRingCapacity);
  assert.equal(defaultRingCapacity, 1024);
  assert.throws(() => new Ring(0), RangeError);
  assert.throws(() => new Ring(1.5), RangeError);
});
