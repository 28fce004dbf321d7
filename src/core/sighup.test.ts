// SIGHUP held until a reload handler registers: real signals to this process. The tests share the
// module's state (one process per test file) and run in order; each leaves nothing held.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { holdSighup, onSighup, type SighupEvent } from './sighup.ts';

/** Sends this process a SIGHUP and waits until its listeners have run. */
async function hup(): Promise<void> {
  const delivered = once(process, 'SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  await delivered;
}

test('onSighup installs the hold itself, and one listener stays for the life of the process', () => {
  assert.equal(process.listenerCount('SIGHUP'), 0);
  const remove = onSighup(() => {});
  assert.equal(process.listenerCount('SIGHUP'), 1);
  remove();
  holdSighup();
  onSighup(() => {})();
  assert.equal(process.listenerCount('SIGHUP'), 1, 'still one listener, after the remover too');
});

test('SIGHUPs with no handler are held as one, and run the next handler once as it registers', async () => {
  holdSighup();
  await hup();
  await hup();
  const events: SighupEvent[] = [];
  const remove = onSighup((e) => events.push(e));
  assert.deepEqual(events, [{ queued: true }], 'run once, before onSighup returned');
  await hup();
  assert.deepEqual(events, [{ queued: true }, { queued: false }], 'then once per SIGHUP');
  remove();
});

test('after the remover, the handler no longer runs and SIGHUPs are held for the next one', async () => {
  const first: SighupEvent[] = [];
  const remove = onSighup((e) => first.push(e));
  assert.deepEqual(first, [], 'nothing was held');
  remove();
  await hup();
  assert.deepEqual(first, []);
  const second: SighupEvent[] = [];
  const removeSecond = onSighup((e) => second.push(e));
  assert.deepEqual(second, [{ queued: true }]);
  removeSecond();
  const third: SighupEvent[] = [];
  onSighup((e) => third.push(e))();
  assert.deepEqual(third, [], 'a held SIGHUP runs one handler only');
});
