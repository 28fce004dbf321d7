// The request/response part every notifier shares: one JSON POST, its outcome as a DeliveryError.
import { DeliveryError, responseError } from '../../../core/retry.ts';

export interface PostOptions {
  signal: AbortSignal;
  headers?: Record<string, string> | undefined;
}

/**
 * POSTs a JSON body and returns the response text; throws a DeliveryError for a non-2xx status
 * (retryable for 5xx, 408 and 429, with Retry-After) and lets network errors through.
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<string> {
  const headers = new Headers({ 'user-agent': 'opsctl' });
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  headers.set('content-type', 'application/json');
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: options.signal,
  });
  const text = await res.text();
  const error = responseError(res);
  if (error) {
    error.details.body = text.slice(0, 200);
    throw error;
  }
  return text;
}

/**
 * Chat robots (WeCom, DingTalk) answer 200 with `{"errcode": N, "errmsg": "..."}`: errcode 0 is
 * success, codes in `retryable` are rate limits or busy servers, anything else is a request to fix.
 */
export function checkErrcode(text: string, retryable: ReadonlySet<number>): void {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw new DeliveryError('reply is not JSON', { retryable: true, details: { body: text.slice(0, 200) } });
  }
  const { errcode, errmsg } = (reply ?? {}) as { errcode?: unknown; errmsg?: unknown };
  if (errcode === 0) return;
  const code = typeof errcode === 'number' ? errcode : undefined;
  throw new DeliveryError(`errcode ${String(errcode)}: ${String(errmsg)}`, {
    retryable: code !== undefined && retryable.has(code),
    details: { errcode, errmsg },
  });
}
