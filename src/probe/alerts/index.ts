// Alerting for the probe service: the `[alerts]` config, the per-target state machine and the
// notifiers it drives. What other modules may use from src/probe/alerts.
export { Alerting, wants, type AlertingOptions, type ObservedResult } from './alerting.ts';
export { alertDefaults, alertsSchema, type AlertsConfig } from './config.ts';
export type { Alert, AlertStatus } from './alert.ts';
export { initialState, step, type AlertPhase, type AlertPolicy, type Observation, type TargetState, type Transition, type TransitionKind } from './state.ts';
export { notifierNames, notifiers, type Notifier, type NotifierContext, type NotifierKind, type NotifierName } from './notifiers/index.ts';
