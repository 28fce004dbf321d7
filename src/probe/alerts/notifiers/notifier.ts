// The notifier contract: a strict schema (with the keys every notifier shares) and a factory.
import type { Logger } from 'pino';
import { z } from 'zod';
import { duration } from '../../../core/config.ts';
import type { Alert } from '../alert.ts';

/** What a notifier factory receives besides its config. */
export interface NotifierContext {
  log: Logger;
  /** The clock (unix ms); tests fix it. */
  now: () => number;
}

/**
 * Delivers alerts to one endpoint. `send` resolves once the endpoint accepted the alert and
 * throws otherwise, a DeliveryError (src/core/retry.ts) saying whether a retry may help; it
 * stops all I/O when `signal` aborts. Retries, queueing and metrics are the caller's.
 */
export interface Notifier {
  send(alert: Alert, signal: AbortSignal): Promise<void>;
  /** Wants `refresh` alerts this often while firing (Alertmanager expires alerts not re-sent). */
  readonly refreshMs?: number | undefined;
  /** Is told of every resolve, even with send_resolved = false (it keeps alert state itself). */
  readonly alwaysResolve?: boolean | undefined;
}

/** One kind of notifier: `[[alerts.<kind>]]` tables validated by `schema`, built by `create`. */
export interface NotifierKind<S extends z.ZodObject = z.ZodObject> {
  schema: S;
  create(config: z.output<S>, ctx: NotifierContext): Notifier;
}

/** An http:// or https:// URL. */
export function httpUrl(): z.ZodURL {
  return z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
}

/** The keys every notifier table has, with their defaults. */
const common = {
  url: httpUrl(),
  /** Retries after the first attempt. */
  max_retries: z.number().int().min(0).max(100).default(5),
  /** Timeout of one attempt. */
  timeout: duration().prefault('5s'),
};

/** What the delivery queue reads from every notifier's config (a type, not an interface: it must fit a record). */
export type CommonNotifierConfig = {
  url: string;
  max_retries: number;
  timeout: number;
};

/**
 * A notifier's strict schema: its own keys plus url, max_retries and timeout.
 * @example const schema = notifierSchema({ secret: z.string().optional() });
 */
export function notifierSchema<T extends z.ZodRawShape>(shape: T) {
  return z.strictObject({ ...common, ...shape });
}
