// One POST of a sink: the response classified by src/core/retry.ts, the error body kept for logs.
import { DeliveryError, responseError } from '../../core/retry.ts';

/** The fetch a sink uses (tests may pass their own). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Posts `body`; throws a DeliveryError for a non-2xx (retryable for 5xx, 408, 429). */
export async function postBatch(fetchImpl: FetchLike, url: string, headers: Record<string, string>, body: Uint8Array | string, signal: AbortSignal): Promise<void> {
  const res = await fetchImpl(url, { method: 'POST', headers, body, signal });
  const text = await res.text().catch(() => '');
  const error = responseError(res);
  if (error === undefined) return;
  // Receivers say why they refused (Prometheus: "out of order sample"); the log needs it.
  throw new DeliveryError(error.message, {
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    details: { ...error.details, body: text.slice(0, 256) },
  });
}
