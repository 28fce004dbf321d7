// The per-target alert state machine: pure, one observation in, the next state and its events out.

/** Thresholds and intervals of the state machine, in probes and milliseconds. */
export interface AlertPolicy {
  /** Consecutive failures that make an alert fire (>= 1). */
  failureThreshold: number;
  /** Consecutive successes that resolve a firing alert (>= 1). */
  successThreshold: number;
  /** While firing, a reminder at most this often; 0: never. */
  reminderIntervalMs: number;
  /** While firing, a `refresh` event at most this often for notifiers that expire alerts; 0: never. */
  refreshIntervalMs: number;
}

/** `ok`: passing; `pending`: failing, below the threshold; `firing`: the alert is on. */
export type AlertPhase = 'ok' | 'pending' | 'firing';

/** What the machine remembers of one target. Times are unix ms. */
export interface TargetState {
  readonly phase: AlertPhase;
  /** Consecutive failed probes. */
  readonly failures: number;
  /** Consecutive successful probes while firing. */
  readonly successes: number;
  /** When the first probe of the current failure streak started (pending and firing). */
  readonly since?: number | undefined;
  /** The latest failure's reason. */
  readonly reason?: string | undefined;
  /** While firing: when the first probe of the current success streak started. */
  readonly recoveringSince?: number | undefined;
  /** When the alert was last announced (firing or reminder). */
  readonly notifiedAt?: number | undefined;
  /** When the alert was last announced or refreshed. */
  readonly refreshedAt?: number | undefined;
  /** When the latest observation was made, and the gap before it. */
  readonly lastAt?: number | undefined;
  readonly intervalMs?: number | undefined;
}

/** One probe result, as the machine sees it. */
export interface Observation {
  success: boolean;
  reason?: string | undefined;
  /** When the probe started (unix ms): failure streaks and recoveries date from it. */
  startedAt: number;
  /** Now, from the injectable clock: reminders and refreshes are timed by it. */
  at: number;
}

/** Why a notification goes out. */
export type TransitionKind = 'firing' | 'reminder' | 'refresh' | 'resolved';

/** A notification the step calls for. */
export interface Transition {
  kind: TransitionKind;
  since: number;
  reason: string;
  /** Resolved: when the first probe of the recovery started. */
  endedAt?: number | undefined;
}

/** The state of a target never seen, or passing. */
export const initialState: TargetState = Object.freeze({ phase: 'ok', failures: 0, successes: 0 });

/** The reason recorded when a failed probe gives none. */
export const unknownReason = 'probe failed';

/**
 * The next state and the notifications one observation calls for. Below the thresholds nothing
 * is sent: a target flapping between pass and fail stays `pending` (or stays `firing`).
 * @example
 *   let s = initialState;
 *   ({ state: s, events } = step(s, { success: false, reason: 'refused', startedAt: t, at: t }, policy));
 */
export function step(state: TargetState, obs: Observation, policy: AlertPolicy): { state: TargetState; events: Transition[] } {
  const timing = {
    lastAt: obs.at,
    intervalMs: state.lastAt === undefined ? state.intervalMs : Math.max(0, obs.at - state.lastAt),
  };
  if (obs.success) {
    if (state.phase !== 'firing') return { state: { ...initialState, ...timing }, events: [] };
    const successes = state.successes + 1;
    const recoveringSince = state.recoveringSince ?? obs.startedAt;
    const since = state.since ?? obs.startedAt;
    const reason = state.reason ?? unknownReason;
    if (successes >= policy.successThreshold) {
      return { state: { ...initialState, ...timing }, events: [{ kind: 'resolved', since, reason, endedAt: recoveringSince }] };
    }
    return stillFiring({ ...state, ...timing, failures: 0, successes, recoveringSince }, obs.at, policy);
  }

  const failures = state.failures + 1;
  const since = state.phase === 'ok' ? obs.startedAt : (state.since ?? obs.startedAt);
  const reason = obs.reason ?? unknownReason;
  const failing = { ...state, ...timing, failures, successes: 0, since, reason, recoveringSince: undefined };
  if (state.phase === 'firing') return stillFiring(failing, obs.at, policy);
  if (failures < policy.failureThreshold) return { state: { ...failing, phase: 'pending' }, events: [] };
  return {
    state: { ...failing, phase: 'firing', notifiedAt: obs.at, refreshedAt: obs.at },
    events: [{ kind: 'firing', since, reason }],
  };
}

/** A firing target with no change of phase: a reminder or a refresh when one is due. */
function stillFiring(state: TargetState, at: number, policy: AlertPolicy): { state: TargetState; events: Transition[] } {
  const since = state.since ?? at;
  const reason = state.reason ?? unknownReason;
  if (policy.reminderIntervalMs > 0 && at - (state.notifiedAt ?? at) >= policy.reminderIntervalMs) {
    return { state: { ...state, notifiedAt: at, refreshedAt: at }, events: [{ kind: 'reminder', since, reason }] };
  }
  if (policy.refreshIntervalMs > 0 && at - (state.refreshedAt ?? at) >= policy.refreshIntervalMs) {
    return { state: { ...state, refreshedAt: at }, events: [{ kind: 'refresh', since, reason }] };
  }
  return { state, events: [] };
}
