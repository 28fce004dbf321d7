// Level normalisation shared by the parsers (and any component that reads a level from data):
// names, abbreviations, syslog severities and pino/bunyan numbers map onto the shipper's levels.
import type { Level } from '../types.ts';

// crit, alert and emerg (syslog 0-2) and panic are "fatal": the service is down or about to be;
// err/error is "error". notice is "info".
const names = new Map<string, Level>([
  ...['trace', 'trc', 't', 'finest', 'verbose'].map((n) => [n, 'trace'] as const),
  ...['debug', 'dbg', 'd', 'fine'].map((n) => [n, 'debug'] as const),
  ...['info', 'inf', 'i', 'information', 'informational', 'notice', 'n'].map((n) => [n, 'info'] as const),
  ...['warn', 'warning', 'wrn', 'w'].map((n) => [n, 'warn'] as const),
  ...['error', 'err', 'eror', 'e', 'severe'].map((n) => [n, 'error'] as const),
  ...['fatal', 'ftl', 'f', 'crit', 'critical', 'c', 'alert', 'a', 'emerg', 'emergency', 'panic'].map((n) => [n, 'fatal'] as const),
]);

/** Syslog severities 0-7 by number. */
const severityLevels: readonly Level[] = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];

/** pino/bunyan numbers 10..60 (trace..fatal). */
const pinoLevels: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * A level from whatever a log line carries: a name in any case ("WARNING", "Err", "I"), a syslog
 * severity 0-7 or a pino/bunyan number 10-60 (as a number or a string of digits). Unknown values
 * give "unknown".
 * @example
 *   normalizeLevel('WARNING') // 'warn'
 *   normalizeLevel('crit')    // 'fatal'
 *   normalizeLevel(30)        // 'info'
 */
export function normalizeLevel(value: unknown): Level {
  if (typeof value === 'number') return numericLevel(value);
  if (typeof value !== 'string' || value.length === 0 || value.length > 16) return 'unknown';
  const named = names.get(value) ?? names.get(value.trim().toLowerCase());
  if (named !== undefined) return named;
  return /^\d{1,2}$/.test(value) ? numericLevel(Number(value)) : 'unknown';
}

/** The level of a syslog severity (0 emerg .. 7 debug). */
export function severityLevel(severity: number): Level {
  return severityLevels[severity] ?? 'unknown';
}

/** The level of an HTTP status in an access log: 5xx error, 4xx warn, anything else info. */
export function statusLevel(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

function numericLevel(n: number): Level {
  if (Number.isInteger(n) && n >= 0 && n <= 7) return severityLevel(n);
  if (n >= 10 && n <= 60 && n % 10 === 0) return pinoLevels[n / 10 - 1] ?? 'unknown';
  return 'unknown';
}
