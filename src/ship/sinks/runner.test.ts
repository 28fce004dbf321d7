import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeliveryError } from '../../core/retry.ts';
import { Ack } from '../ack.ts';
import type { SinkBuffer, Taken } from '../buffer/types.ts';
import { entry, metricValue, testContext } from '../testing.ts';
import type { LogEntry, SinkWriter } from '../types.ts';
import { SinkRunner } from './runner.ts';

/** The simplest buffer that keeps the contract: unbounded, acks on commit. */
class ArrayBuffer implements SinkBuffer {
  readonly groups: Array<{ entries: LogEntry[]; ack: Ack }> = [];
  #ended = false;
  #wake: (() => void) | undefined;
  get events(): number { return this.groups.reduce((n, g) => n + g.entries.length, 0); }
  get bytes(): number { return 0; }
  push(entries: LogEntry[], ack: Ack): Promise<boolean> {
    this.groups.push({ entries, ack });
    this.#wake?.();
    return Promise.resolve(true);
  }
  async take(_max: number, _bytes: number, _timeout: number, signal: AbortSignal): Promise<Taken | undefined> {
    while (this.groups.length === 0) {
      if (this.#ended || signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    return { entries: (this.groups[0] as { entries: LogEntry[] }).entries, bytes: 0 };
  }
  commit(): Promise<void> {
    this.groups.shift()?.ack.done();
    return Promise.resolve();
  }
  end(): void { this.#ended = true; this.#wake?.(); }
  close(): Promise<void> { return Promise.resolve(); }
}

/** A writer whose outcomes are scripted: each call takes the next error (undefined = success). */
class ScriptedWriter implements SinkWriter {
  readonly delivered: string[] = [];
  readonly outcomes: Array<DeliveryError | undefined>;
  calls = 0;
  constructor(outcomes: Array<DeliveryError | undefined> = []) {
    this.outcomes = outcomes;
  }
  write(entries: readonly LogEntry[]): Promise<void> {
    this.calls++;
    const outcome = this.outcomes.shift();
    if (outcome) return Promise.reject(outcome);
    this.delivered.push(...entries.map((e) => e.message));
    return Promise.resolve();
  }
}

const retryable = (): DeliveryError => new DeliveryError('status 503', { retryable: true, details: { status: 503 } });
const rejected = (): DeliveryError => new DeliveryError('status 400', { retryable: false, details: { status: 400 } });

function runner(name: string, writer: SinkWriter, maxRetries?: number) {
  const ctx = testContext(name, 'sink');
  const buffer = new ArrayBuffer();
  const r = new SinkRunner({
    name, writer, buffer, batch: { max_events: 100, max_bytes: 1 << 20, timeout: 10 },
    retry: { max_retries: maxRetries, initial_backoff: 1, max_backoff: 5 }, requestTimeoutMs: 1000,
    log: ctx.log, metrics: ctx.metrics, counters: ctx.counters, deadLetter: ctx.deadLetter, random: () => 0.5,
  });
  return { r, ctx, buffer };
}

/** A started primary "http" with a started fallback "spool" that accepts everything. */
function withFallback(primaryWriter: SinkWriter, maxRetries?: number) {
  const primary = runner('http', primaryWriter, maxRetries);
  const fallbackWriter = new ScriptedWriter();
  const fallback = runner('spool', fallbackWriter);
  primary.r.setFallback(fallback.r);
  primary.r.start();
  fallback.r.start();
  return { primary, fallback, fallbackWriter };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), 'condition not reached');
}

test('retryable failures are retried until delivered; the ack completes only then', async () => {
  const writer = new ScriptedWriter([retryable(), retryable(), retryable()]);
  const { r, ctx } = runner('http', writer);
  let acked = false;
  r.start();
  await r.push([entry('a'), entry('b')], new Ack(() => { acked = true; }));
  await until(() => acked);
  assert.deepEqual(writer.delivered, ['a', 'b']);
  assert.equal(writer.calls, 4);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_sink_retries_total', { sink: 'http' }), 3);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_out_total', { component: 'http' }), 2);
  await r.drain(Date.now() + 1000);
  await r.close();
});

test('a rejected batch (4xx) goes to the dead letter, counted, and the next batch goes on', async () => {
  const writer = new ScriptedWriter([rejected()]);
  const { r, ctx } = runner('http', writer);
  let acks = 0;
  r.start();
  await r.push([entry('bad')], new Ack(() => { acks++; }));
  await r.push([entry('good')], new Ack(() => { acks++; }));
  await until(() => acks === 2);
  assert.deepEqual(writer.delivered, ['good']);
  assert.deepEqual(ctx.deadLetter.written.map((w) => [w.entry.message, w.reason, w.component]), [['bad', 'rejected: status 400', 'http']]);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_errors_total', { component: 'http', error: 'rejected_400' }), 1);
  await r.close();
});

test('with max_retries set, an exhausted batch is dead-lettered, never dropped silently', async () => {
  const writer = new ScriptedWriter([retryable(), retryable(), retryable()]);
  const { r, ctx } = runner('http', writer, 2);
  let acked = false;
  r.start();
  await r.push([entry('x')], new Ack(() => { acked = true; }));
  await until(() => acked);
  assert.equal(writer.calls, 3);
  assert.deepEqual(writer.delivered, []);
  assert.equal(ctx.deadLetter.written[0]?.reason, 'retries_exhausted: status 503');
  await r.close();
});

test('a failing sink hands batches to its fallback, then takes them back once it recovers', async () => {
  const primaryWriter = new ScriptedWriter([retryable(), retryable()]);
  const { primary, fallback, fallbackWriter } = withFallback(primaryWriter);
  let acks = 0;
  await primary.r.push([entry('1')], new Ack(() => { acks++; }));
  await until(() => acks === 1);
  assert.deepEqual(fallbackWriter.delivered, ['1']);
  assert.equal(primary.r.failing, true);
  // Backoff is 1-5 ms: later batches probe the primary again, which fails once more, then recovers.
  for (const m of ['2', '3', '4']) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    await primary.r.push([entry(m)], new Ack(() => { acks++; }));
    await until(() => acks === Number(m));
  }
  assert.equal(primary.r.failing, false);
  assert.deepEqual(primaryWriter.delivered.at(-1), '4');
  assert.deepEqual([...fallbackWriter.delivered, ...primaryWriter.delivered].sort(), ['1', '2', '3', '4']);
  assert.ok((await metricValue(primary.ctx.registry, 'opsctl_ship_sink_failover_batches_total', { sink: 'http', fallback: 'spool' }) ?? 0) >= 1);
  // The fallback's in and out agree: handed-over batches count on both sides.
  const handed = fallbackWriter.delivered.length;
  assert.equal(await metricValue(fallback.ctx.registry, 'opsctl_ship_events_in_total', { component: 'spool' }), handed);
  assert.equal(await metricValue(fallback.ctx.registry, 'opsctl_ship_events_out_total', { component: 'spool' }), handed);
  await primary.r.close();
  await fallback.r.close();
});

test('drain gives up at its deadline and leaves undelivered entries unacknowledged', async () => {
  const writer = new ScriptedWriter(Array.from({ length: 1000 }, retryable));
  const { r } = runner('http', writer);
  let acked = false;
  r.start();
  await r.push([entry('stuck')], new Ack(() => { acked = true; }));
  await r.drain(Date.now() + 50);
  await r.close();
  assert.equal(acked, false);
  assert.ok(writer.calls > 1);
});

test('max_retries = 0 with a fallback: a failed batch goes to the fallback, not to the dead-letter file', async () => {
  const { primary, fallback, fallbackWriter } = withFallback(new ScriptedWriter([retryable()]), 0);
  let acks = 0;
  await primary.r.push([entry('1')], new Ack(() => { acks++; }));
  await until(() => acks === 1);
  assert.deepEqual(fallbackWriter.delivered, ['1']);
  assert.deepEqual(primary.ctx.deadLetter.written, []);
  await primary.r.close();
  await fallback.r.close();
});
