// A prober for tests: no I/O, an outcome chosen by the test (default: fails when the target contains
// "fail", succeeds with status 503 when it contains "503"), every call recorded, one sample with a label.
import { z } from 'zod';
import type { ProbeContext, ProbeOutcome, Prober } from '../types.ts';

export interface FakeProber extends Prober {
  calls: Array<ProbeContext & { at: number }>;
  /** Probes running right now, and the most there ever were. */
  running: number;
  maxRunning: number;
}

/** Waits `ms` on the global setTimeout (so mocked clocks move it), giving up when the probe's signal aborts. */
export function takes(ms: number, outcome: Partial<ProbeOutcome> = {}): (ctx: ProbeContext) => Promise<ProbeOutcome> {
  return (ctx) => new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve({ success: false, reason: 'aborted', phases: {}, details: {} });
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve({ success: true, phases: {}, details: {}, ...outcome });
    }, ms);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function fakeProber(behave?: (ctx: ProbeContext) => Promise<ProbeOutcome> | ProbeOutcome): FakeProber {
  const fake: FakeProber = {
    calls: [],
    running: 0,
    maxRunning: 0,
    schema: z.strictObject({}),
    async probe(ctx) {
      fake.calls.push({ ...ctx, at: Date.now() });
      fake.running++;
      fake.maxRunning = Math.max(fake.maxRunning, fake.running);
      try {
        ctx.log.debug('fake probe', { target: ctx.target });
        if (behave) return await behave(ctx);
        const fail = ctx.target.includes('fail');
        const status = fail || ctx.target.includes('503') ? 503 : 200;
        return { success: !fail, ...(fail && { reason: 'told to fail' }), phases: { wait: 1 }, details: { status } };
      } finally {
        fake.running--;
      }
    },
    metrics: (result) => [{ name: 'probe_fake_status', help: 'The fake status.', type: 'gauge', labels: { phase: 'final' }, value: Number(result.details.status ?? 0) }],
  };
  return fake;
}
