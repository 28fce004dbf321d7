import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Lifecycle } from './lifecycle.ts';
import { silentLogger } from './log.ts';

test('stop hooks run once, in reverse order, after the signal aborts', async () => {
  const order: string[] = [];
  const life = new Lifecycle({ log: silentLogger(), exit: () => assert.fail('must not exit') });
  life.add('first', () => { order.push('first'); });
  life.add('second', async () => { await sleep(5); order.push(`second:${String(life.signal.aborted)}`); });
  life.add('broken', () => { throw new Error('boom'); });
  const a = life.shutdown('test');
  const b = life.shutdown('again');
  assert.equal(a, b);
  await life.done;
  assert.deepEqual(order, ['second:true', 'first']);
  assert.equal(life.signal.reason, 'test');
});

test('a hook that hangs past the deadline forces exit 70', async () => {
  const exits: number[] = [];
  const life = new Lifecycle({ log: silentLogger(), shutdownTimeoutMs: 20, exit: (c) => exits.push(c) });
  life.add('hang', () => new Promise<void>(() => undefined));
  await life.shutdown();
  assert.deepEqual(exits, [70]);
});

test('SIGTERM starts shutdown; a second signal exits 130', async () => {
  const exits: number[] = [];
  const life = new Lifecycle({ log: silentLogger(), exit: (c) => exits.push(c) });
  let release!: () => void;
  life.add('slow', () => new Promise<void>((resolve) => { release = resolve; }));
  const remove = life.installSignalHandlers(['SIGWINCH']);
  try {
    process.kill(process.pid, 'SIGWINCH');
    await sleep(20);
    assert.equal(life.signal.aborted, true);
    process.kill(process.pid, 'SIGWINCH');
    await sleep(20);
    assert.deepEqual(exits, [130]);
    release();
    await life.done;
  } finally {
    remove();
  }
});
