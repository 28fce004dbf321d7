import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { DeliveryError, RetryQueue, backoffMs, parseRetryAfter, responseError, retryPolicy, toDeliveryError, type RetryReport } from './retry.ts';

const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });

test('retryPolicy fills in the defaults and needs at least one attempt', () => {
  assert.deepEqual(retryPolicy(), { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000 });
  assert.equal(retryPolicy({ attempts: 0 }).attempts, 1);
});

test('backoff doubles, jitters within the upper half of the step, and is capped', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => 0)), [50, 100, 200, 400, 500, 500]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => 0.999999)), [100, 200, 400, 800, 1000, 1000]);
});

test('a Retry-After replaces the backoff, within the cap', () => {
  assert.equal(backoffMs(policy, 1, () => 0, 700), 700);
  assert.equal(backoffMs(policy, 1, () => 0, 60_000), 1000);
  assert.equal(backoffMs(policy, 1, () => 0, 0), 0);
});

test('Retry-After is read in seconds; HTTP dates and junk are ignored', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'), undefined);
  assert.equal(parseRetryAfter('-1'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('responses: 2xx pass; 5xx, 408 and 429 are retryable; other 4xx are not', () => {
  const res = (status: number, headers: Record<string, string> = {}) => ({ ok: status >= 200 && status < 300, status, headers: new Headers(headers) });
  assert.equal(responseError(res(204)), undefined);
  const table = [[500, true], [503, true], [408, true], [429, true], [400, false], [401, false], [404, false], [413, false]] as const;
  for (const [status, retryable] of table) {
    const err = responseError(res(status));
    assert.ok(err instanceof DeliveryError);
    assert.equal(err.retryable, retryable, `status ${status}`);
    assert.deepEqual(err.details, { status });
    assert.equal(err.code, 'OPS_ERR_WEBHOOK');
  }
  assert.equal(responseError(res(429, { 'retry-after': '2' }))?.retryAfterMs, 2000);
});

test('thrown errors: timeouts and network errors are retryable DeliveryErrors', () => {
  const timeout = toDeliveryError(new DOMException('The operation timed out.', 'TimeoutError'));
  assert.deepEqual([timeout.message, timeout.retryable], ['timeout', true]);
  const refused = toDeliveryError(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }));
  assert.deepEqual([refused.message, refused.retryable, refused.details], ['ECONNREFUSED', true, { error: 'ECONNREFUSED' }]);
  const own = new DeliveryError('status 400', { retryable: false });
  assert.equal(toDeliveryError(own), own);
});

/** A queue whose deliveries follow a script of outcomes per item, recording every report. */
function scripted(outcomes: Record<string, Array<'ok' | 'retry' | 'fatal' | 'hang'>>, options: { maxQueue?: number; attempts?: number } = {}) {
  const reports: Array<RetryReport<string>> = [];
  const calls: string[] = [];
  const queue = new RetryQueue<string>({
    deliver: async (item, signal) => {
      calls.push(item);
      const outcome = outcomes[item]?.shift() ?? 'ok';
      if (outcome === 'hang') {
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      }
      if (outcome === 'retry') throw new DeliveryError('status 503', { retryable: true });
      if (outcome === 'fatal') throw new DeliveryError('status 400', { retryable: false });
    },
    policy: { baseDelayMs: 1, attempts: options.attempts ?? 3, timeoutMs: 60_000 },
    maxQueue: options.maxQueue,
    random: () => 0,
    report: (r) => reports.push(r),
  });
  const summary = () => reports.map((r) => (r.type === 'dropped' ? `dropped:${r.items.join(',')}:${r.why}` : `${r.type}:${r.item}:${r.attempt}`));
  return { queue, calls, summary };
}

test('RetryQueue delivers in order, retrying what may succeed and giving up on what may not', async () => {
  const { queue, calls, summary } = scripted({ a: ['retry', 'ok'], b: ['fatal'], c: ['retry', 'retry', 'retry'] });
  for (const item of ['a', 'b', 'c', 'd']) assert.equal(queue.push(item), true);
  await queue.flush();
  assert.deepEqual(calls, ['a', 'a', 'b', 'c', 'c', 'c', 'd']);
  assert.deepEqual(summary(), ['retrying:a:1', 'delivered:a:2', 'failed:b:1', 'retrying:c:1', 'retrying:c:2', 'failed:c:3', 'delivered:d:1']);
  assert.equal(queue.length, 0);
});

test('RetryQueue drops the oldest waiting item when full, never the one in flight', async () => {
  const { queue, calls, summary } = scripted({ a: ['hang'] }, { maxQueue: 2 });
  for (const item of ['a', 'b', 'c', 'd', 'e']) queue.push(item);
  assert.equal(queue.length, 3);
  await queue.stop(20);
  assert.deepEqual(calls, ['a']);
  assert.deepEqual(summary(), ['dropped:b:queue-full', 'dropped:c:queue-full', 'dropped:a,d,e:shutdown']);
  assert.equal(queue.push('f'), false, 'a stopped queue takes nothing');
});

test('RetryQueue: an attempt that times out is retried', async () => {
  let n = 0;
  const reports: string[] = [];
  const queue = new RetryQueue<string>({
    deliver: async (_item, signal) => {
      if (++n === 1) await sleep(60_000, undefined, { signal });
    },
    policy: { timeoutMs: 30, baseDelayMs: 1 },
    report: (r) => reports.push(r.type === 'dropped' ? r.type : `${r.type}${r.type === 'retrying' ? `:${r.error.message}` : ''}`),
  });
  queue.push('x');
  await queue.flush();
  assert.deepEqual(reports, ['retrying:timeout', 'delivered']);
});

test('RetryQueue: a reporter that throws does not stop deliveries', async () => {
  const delivered: string[] = [];
  const queue = new RetryQueue<string>({
    deliver: (item) => { delivered.push(item); return Promise.resolve(); },
    report: () => { throw new Error('bug'); },
  });
  queue.push('a');
  queue.push('b');
  await queue.flush();
  assert.deepEqual(delivered, ['a', 'b']);
});

test('RetryQueue: stop() during a backoff ends at once', async () => {
  const { queue, summary } = scripted({ a: ['retry'] });
  const slow = new RetryQueue<string>({ deliver: () => Promise.reject(new DeliveryError('503', { retryable: true })), policy: { baseDelayMs: 60_000 } });
  slow.push('x');
  queue.push('a');
  await queue.flush();
  const started = performance.now();
  await slow.stop(10);
  assert.ok(performance.now() - started < 1000);
  assert.deepEqual(summary(), ['retrying:a:1', 'delivered:a:2']);
});
