// End to end: 20 cycles of `kill -9` at random moments while lines are written (scripts/ship-soak.ts,
// with short runs): every line arrives at least once, duplicates stay within the bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../scripts/ship-soak.ts';

test('kill -9 at random moments, 20 cycles: every line received at least once, duplicates bounded', { timeout: 180_000 }, async (t) => {
  const seed = Number(process.env.SHIP_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const batchEvents = 200;
  const readBuffer = 16_384;
  const r = await runSoak({ cycles: 20, rate: 1000, maxRunMs: 600, maxDownMs: 100, rotateLines: 4000, batchEvents, readBuffer, seed });
  t.diagnostic(`seed ${seed}: ${r.written} lines, ${r.duplicates} duplicates (bound ${r.duplicateBound}), per run ${r.duplicatesPerRun.join(',')}; delivered past the checkpoint at each kill ${r.lagAtKill.join(',')}`);
  const repeat = `(repeat with SHIP_SOAK_SEED=${seed})`;
  assert.equal(r.kills, 20);
  assert.ok(r.written > 5000, `only ${r.written} lines written`);
  assert.deepEqual(r.missing, [], `lines never received ${repeat}`);
  assert.equal(r.unique, r.written, `distinct ids received vs lines written ${repeat}`);
  // What one kill may cost again: the sink batch whose 2xx came back before its acknowledgment reached
  // the checkpoint file (batch.max_events = 200), plus the rest of the read chunk that batch belongs
  // to (the checkpoint moves per chunk: read_buffer 16 KiB / 66-byte lines: 249 whole lines and a partial one).
  assert.equal(r.duplicateBound, 20 * (batchEvents + 250));
  assert.ok(r.duplicates <= r.duplicateBound, `${r.duplicates} duplicates > ${r.duplicateBound}; per run: ${r.duplicatesPerRun.join(',')} ${repeat}`);
  // Per kill: every duplicate is a line delivered past the checkpoint saved when the shipper died,
  // or of the batch still on its way to the receiver then. (How far the saved checkpoint trails
  // depends on fsync latency, so the bound above is the sum's, where slow moments even out.)
  assert.equal(r.duplicatesPerRun[0], 0, `duplicates before any kill ${repeat}`);
  for (const [kill, lag] of r.lagAtKill.entries()) {
    const n = r.duplicatesPerRun[kill + 1] ?? 0;
    assert.ok(n <= lag + batchEvents, `kill ${kill + 1}: ${n} duplicates, ${lag} delivered past the checkpoint ${repeat}`);
  }
  assert.equal(r.finalExit, 0);
});
