import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { initialState, step, type AlertPolicy, type TargetState, type Transition } from './state.ts';

const minute = 60_000;
const t0 = Date.UTC(2025, 0, 2, 3, 0, 0);
const base: AlertPolicy = { failureThreshold: 3, successThreshold: 2, reminderIntervalMs: 0, refreshIntervalMs: 0 };

/**
 * Runs a sequence of results, one a minute: "F" fails, "S" succeeds. Returns the events as
 * "kind@index" and the final state. Each probe starts 5 s before it is observed.
 */
function run(sequence: string, policy: Partial<AlertPolicy> = {}): { events: string[]; raw: Transition[]; state: TargetState } {
  let state = initialState;
  const events: string[] = [];
  const raw: Transition[] = [];
  [...sequence].forEach((c, i) => {
    const at = t0 + i * minute;
    const out = step(Object.freeze(state), { success: c === 'S', reason: c === 'F' ? `fail ${i}` : undefined, startedAt: at - 5000, at }, { ...base, ...policy });
    state = out.state;
    for (const e of out.events) {
      events.push(`${e.kind}@${i}`);
      raw.push(e);
    }
  });
  return { events, raw, state };
}

const table: Array<{ name: string; seq: string; policy?: Partial<AlertPolicy>; events: string[]; phase: TargetState['phase'] }> = [
  { name: 'passing sends nothing', seq: 'SSSS', events: [], phase: 'ok' },
  { name: 'failures below the threshold are pending', seq: 'FF', events: [], phase: 'pending' },
  { name: 'the threshold-th consecutive failure fires', seq: 'FFF', events: ['firing@2'], phase: 'firing' },
  { name: 'further failures send nothing without reminders', seq: 'FFFFFF', events: ['firing@2'], phase: 'firing' },
  { name: 'flapping below the failure threshold sends nothing', seq: 'FFSFFSFFS', events: [], phase: 'ok' },
  { name: 'a success while pending starts over', seq: 'FFSFFF', events: ['firing@5'], phase: 'firing' },
  { name: 'success_threshold successes resolve', seq: 'FFFSS', events: ['firing@2', 'resolved@4'], phase: 'ok' },
  { name: 'one success while firing does not resolve', seq: 'FFFS', events: ['firing@2'], phase: 'firing' },
  { name: 'a failure resets the success count', seq: 'FFFSFSS', events: ['firing@2', 'resolved@6'], phase: 'ok' },
  { name: 'flapping while firing keeps firing quietly', seq: 'FFFSFSFSF', events: ['firing@2'], phase: 'firing' },
  { name: 'it can fire again after resolving', seq: 'FFFSSFFF', events: ['firing@2', 'resolved@4', 'firing@7'], phase: 'firing' },
  { name: 'thresholds of 1 fire and resolve at once', seq: 'FSFS', policy: { failureThreshold: 1, successThreshold: 1 }, events: ['firing@0', 'resolved@1', 'firing@2', 'resolved@3'], phase: 'ok' },
  { name: 'reminders every reminder interval while firing', seq: 'FFFFFFFFF', policy: { reminderIntervalMs: 3 * minute }, events: ['firing@2', 'reminder@5', 'reminder@8'], phase: 'firing' },
  { name: 'reminders also while recovering', seq: 'FFFSFSFSF', policy: { reminderIntervalMs: 3 * minute, successThreshold: 3 }, events: ['firing@2', 'reminder@5', 'reminder@8'], phase: 'firing' },
  { name: 'a reminder interval of 0 sends none', seq: 'FFFFFFFFF', policy: { reminderIntervalMs: 0 }, events: ['firing@2'], phase: 'firing' },
  { name: 'refreshes every refresh interval', seq: 'FFFFFFF', policy: { refreshIntervalMs: 2 * minute }, events: ['firing@2', 'refresh@4', 'refresh@6'], phase: 'firing' },
  { name: 'a reminder counts as a refresh', seq: 'FFFFFFFFF', policy: { refreshIntervalMs: 2 * minute, reminderIntervalMs: 4 * minute }, events: ['firing@2', 'refresh@4', 'reminder@6', 'refresh@8'], phase: 'firing' },
  { name: 'reminders stop once resolved', seq: 'FFFSSFFSS', policy: { reminderIntervalMs: minute }, events: ['firing@2', 'reminder@3', 'resolved@4'], phase: 'ok' },
];

for (const c of table) {
  test(`state machine: ${c.name} (${c.seq})`, () => {
    const { events, state } = run(c.seq, c.policy);
    assert.deepEqual(events, c.events);
    assert.equal(state.phase, c.phase);
  });
}

test('firing dates from the first failure of the streak and carries the latest reason', () => {
  const { raw } = run('SFFF');
  assert.deepEqual(raw, [{ kind: 'firing', since: t0 + minute - 5000, reason: 'fail 3' }]);
});

test('resolved carries the start of the outage and of the recovery', () => {
  const { raw } = run('FFFFSFSS');
  assert.deepEqual(raw.at(-1), { kind: 'resolved', since: t0 - 5000, reason: 'fail 5', endedAt: t0 + 6 * minute - 5000 });
});

test('a failure without a reason is "probe failed"', () => {
  const { events } = step(initialState, { success: false, startedAt: t0, at: t0 }, { ...base, failureThreshold: 1 });
  assert.equal(events[0]?.reason, 'probe failed');
});

test('the state records the time between results', () => {
  const { state } = run('SSF');
  assert.equal(state.intervalMs, minute);
  assert.equal(state.lastAt, t0 + 2 * minute);
});

test('step is pure: the same input gives the same output and the input is untouched', () => {
  const s = Object.freeze({ ...initialState, phase: 'pending' as const, failures: 2, since: t0 });
  const obs = { success: false, reason: 'x', startedAt: t0 + minute, at: t0 + minute };
  assert.deepEqual(step(s, obs, base), step(s, obs, base));
  assert.equal(s.failures, 2);
});

test('property: firing and resolved alternate, starting with firing, and match the phase', () => {
  fc.assert(fc.property(
    fc.array(fc.boolean(), { maxLength: 60 }),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 4 }),
    (results, failureThreshold, successThreshold) => {
      let state = initialState;
      let open = 0;
      let run = 0;
      results.forEach((success, i) => {
        const wasFiring = state.phase === 'firing';
        const out = step(state, { success, startedAt: t0 + i, at: t0 + i }, { ...base, failureThreshold, successThreshold });
        state = out.state;
        run = success ? 0 : run + 1;
        for (const e of out.events) {
          if (e.kind === 'firing') { assert.equal(open, 0); open = 1; assert.ok(run >= failureThreshold); }
          if (e.kind === 'resolved') { assert.equal(open, 1); open = 0; }
        }
        assert.equal(open, state.phase === 'firing' ? 1 : 0);
        if (!wasFiring && out.events.length === 0) assert.ok(state.phase !== 'firing');
      });
    },
  ));
});
