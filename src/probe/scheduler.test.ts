import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { validate } from '../core/config.ts';
import { moduleSchema, type ModuleConfig } from './config.ts';
import type { RunProbeResult } from './run-probe.ts';
import { phaseOf, Scheduler, type SchedulerOptions } from './scheduler.ts';
import { Semaphore } from './semaphore.ts';
import type { ScheduledTarget } from './service-config.ts';
import { fakeProber, takes, type FakeProber } from './testdata/fake-prober.ts';

const modules: Record<string, ModuleConfig> = { m: validate(moduleSchema, { prober: 'http', timeout: '10s' }) };

function target(name: string, interval = 1000, extra: Partial<ScheduledTarget> = {}): ScheduledTarget {
  return { name, target: `http://${name}.test/`, module: 'm', interval, timeout: Math.min(interval, 10_000), jitter: 0, labels: {}, ...extra };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the mocked clock forward in small steps, letting promises settle in between. */
async function advance(t: TestContext, ms: number, step = 10): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    t.mock.timers.tick(step);
    await flush();
  }
}

interface Harness {
  scheduler: Scheduler;
  fake: FakeProber;
  results: Array<{ name: string; result: RunProbeResult; at: number }>;
  skips: Array<{ name: string; why: string; at: number }>;
}

function harness(t: TestContext, options: Partial<SchedulerOptions> & { targets: ScheduledTarget[]; fake?: FakeProber }): Harness {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const fake = options.fake ?? fakeProber();
  const results: Harness['results'] = [];
  const skips: Harness['skips'] = [];
  const scheduler = new Scheduler({
    modules, concurrency: 100, probers: { http: fake },
    onResult: (tg, result) => results.push({ name: tg.name, result, at: Date.now() }),
    onSkip: (tg, why) => skips.push({ name: tg.name, why, at: Date.now() }),
    ...options,
  });
  // Not awaited: once the test ends its mocked clock is gone, and stop()'s deadline with it.
  t.after(() => { void scheduler.stop(); });
  return { scheduler, fake, results, skips };
}

test('the semaphore caps holders, serves waiters in order, and lets a waiter give up', async () => {
  const s = new Semaphore(1);
  assert.equal(await s.acquire(), true);
  const order: string[] = [];
  const gaveUp = new AbortController();
  const a = s.acquire().then((ok) => order.push(`a:${ok}`));
  const b = s.acquire(gaveUp.signal).then((ok) => order.push(`b:${ok}`));
  const c = s.acquire().then((ok) => order.push(`c:${ok}`));
  assert.equal(s.waiting, 3);
  gaveUp.abort();
  await b;
  assert.equal(s.waiting, 2);
  s.release();
  await a;
  s.release();
  await c;
  assert.deepEqual(order, ['b:false', 'a:true', 'c:true']);
  assert.equal(s.held, 1);
  s.release();
  assert.equal(s.held, 0);
});

test('a target runs at its phase and then every interval, on a fixed grid', async (t) => {
  const h = harness(t, { targets: [target('a', 1000)] });
  h.scheduler.start();
  await advance(t, 5000);
  const phase = phaseOf('a', 1000);
  assert.deepEqual(h.fake.calls.map((c) => c.at), [0, 1, 2, 3, 4].map((k) => phase + k * 1000).filter((at) => at <= 5000));
  assert.equal(h.results.length, h.fake.calls.length);
  assert.equal(h.results[0]?.result.success, true);
  assert.equal(h.results[0]?.result.module, 'm');
});

test('first runs spread over the interval by a hash of the name', async (t) => {
  const targets = Array.from({ length: 1000 }, (_, i) => target(`target-${i}`, 10_000));
  const h = harness(t, { targets, concurrency: 1000 });
  h.scheduler.start();
  await advance(t, 10_000, 50);
  assert.equal(h.fake.calls.length, 1000, 'every target ran once in the first interval');
  const buckets = new Array<number>(10).fill(0);
  // The mocked clock moves in 50ms steps, so a run at 9990 may read 10000.
  for (const c of h.fake.calls) buckets[Math.min(9, Math.floor(c.at / 1000))]! += 1;
  for (const [i, n] of buckets.entries()) assert.ok(n > 50 && n < 150, `second ${i} had ${n} of 1000 first runs: ${buckets.join(' ')}`);
  assert.equal(phaseOf('target-1', 10_000), phaseOf('target-1', 10_000), 'stable');
});

test('jitter delays each run by at most its amount, without drifting the grid', async (t) => {
  const h = harness(t, { targets: [target('a', 1000, { jitter: 400 })], random: () => 0.5 });
  h.scheduler.start();
  await advance(t, 4000);
  const phase = phaseOf('a', 1000);
  assert.deepEqual(h.fake.calls.map((c) => c.at), [0, 1, 2, 3].map((k) => phase + k * 1000 + 200).filter((at) => at <= 4000));
});

test('no more probes run at once than the concurrency allows', async (t) => {
  // Ten 4s probes every 20s through three slots: some queue, but all get their turn before their next due time.
  const fake = fakeProber(takes(4000));
  const h = harness(t, { targets: Array.from({ length: 10 }, (_, i) => target(`t${i}`, 20_000)), concurrency: 3, fake });
  h.scheduler.start();
  assert.deepEqual(h.scheduler.load, { running: 0, waiting: 0 });
  let maxWaiting = 0;
  for (let ms = 0; ms < 25_000; ms += 10) {
    await advance(t, 10);
    maxWaiting = Math.max(maxWaiting, h.scheduler.load.waiting);
  }
  assert.equal(fake.maxRunning, 3);
  assert.ok(maxWaiting > 0, 'some had to wait');
  assert.ok(h.results.length >= 10, `results: ${h.results.length}`);
  assert.equal(h.skips.length, 0);
});

test('a run still waiting for a slot at its next due time is skipped and counted', async (t) => {
  // One slot, three targets that each hold it for 900ms of a 1s interval: about two in three runs cannot get it.
  const fake = fakeProber(takes(900));
  const h = harness(t, { targets: ['a', 'b', 'c'].map((n) => target(n, 1000)), concurrency: 1, fake });
  h.scheduler.start();
  await advance(t, 6000);
  assert.ok(h.skips.length >= 8, `skips: ${h.skips.length}`);
  // A run that got its slot late may also still be going at its next due time.
  assert.ok(h.skips.some((s) => s.why === 'no slot'));
  assert.ok(h.skips.every((s) => s.why === 'no slot' || s.why === 'previous run'));
  assert.ok(h.scheduler.load.waiting <= 3, 'at most one waiter per target');
  assert.equal(fake.maxRunning, 1);
  assert.ok(h.results.length >= 5, `results: ${h.results.length}`);
  assert.ok(h.results.length + h.skips.length + h.scheduler.load.waiting + h.scheduler.load.running >= 16, 'every due time is accounted for');
});

test('a run whose previous one is still going (a prober ignoring its signal) is skipped', async (t) => {
  const fake = fakeProber(async () => {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    return { success: true, phases: {}, details: {} };
  });
  const h = harness(t, { targets: [target('slow', 1000)], fake });
  h.scheduler.start();
  await advance(t, 3500);
  assert.ok(h.skips.some((s) => s.why === 'previous run'), JSON.stringify(h.skips));
  assert.equal(fake.maxRunning, 1);
});

test('stop cancels probes in flight, records nothing more and runs nothing more', async (t) => {
  const fake = fakeProber(takes(800));
  const h = harness(t, { targets: [target('a', 1000)], fake });
  h.scheduler.start();
  await advance(t, phaseOf('a', 1000) + 100);
  assert.equal(fake.running, 1);
  const signal = fake.calls[0]?.signal;
  await h.scheduler.stop();
  assert.equal(signal?.aborted, true);
  assert.equal(fake.running, 0);
  await advance(t, 3000);
  assert.equal(fake.calls.length, 1);
  assert.equal(h.results.length, 0, 'a cancelled probe is not a result');
});

test('stop waits for a prober that ignores its signal, but not forever', async (t) => {
  const fake = fakeProber(() => new Promise(() => {}));
  const h = harness(t, { targets: [target('stuck', 1000)], fake, stopTimeoutMs: 2000 });
  h.scheduler.start();
  await advance(t, 1000);
  let stopped = false;
  const stopping = h.scheduler.stop().then(() => { stopped = true; });
  await advance(t, 1000);
  assert.equal(stopped, false);
  await advance(t, 1100);
  await stopping;
  assert.equal(stopped, true);
});

test('the external signal stops the scheduler', async (t) => {
  const ac = new AbortController();
  const h = harness(t, { targets: [target('a', 1000)], signal: ac.signal });
  h.scheduler.start();
  ac.abort();
  await advance(t, 3000);
  assert.equal(h.fake.calls.length, 0);
});
