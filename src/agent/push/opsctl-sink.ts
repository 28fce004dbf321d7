// A sink speaking the opsctl push protocol (src/agent/push-protocol.ts) to the control plane.
import { buildPushBatch, pushRequestHeaders } from '../push-protocol.ts';
import { postBatch, type FetchLike } from './http-send.ts';
import type { PushSink } from './series.ts';

export interface OpsctlSinkOptions {
  /** The ingest endpoint. */
  url: string;
  /** This host's id, part of every idempotency key. */
  hostId: string;
  headers?: Record<string, string> | undefined;
  fetch?: FetchLike | undefined;
}

/**
 * A sink posting each batch as JSON with its idempotency key; a retry resends the same key.
 * @example new Pusher({ sink: opsctlSink({ url, hostId: 'web-1' }), log, metrics })
 */
export function opsctlSink(options: OpsctlSinkOptions): PushSink {
  const fetchImpl = options.fetch ?? fetch;
  return {
    name: 'opsctl',
    send: (batch, signal) => {
      const wire = buildPushBatch(options.hostId, batch.seq, batch.records);
      const headers = { ...pushRequestHeaders(wire), ...options.headers };
      return postBatch(fetchImpl, options.url, headers, JSON.stringify(wire), signal);
    },
  };
}
