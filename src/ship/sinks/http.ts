// The http sink: each batch is one POST (or PUT) of NDJSON or a JSON array, gzip optional, over a
// kept-alive connection (node:http: already loaded for /metrics, where an HTTP client library would
// add ~25 MB of resident memory to every shipper).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { z } from 'zod';
import { versionInfo } from '../../core/version.ts';
import { DeliveryError, responseError } from '../../core/retry.ts';
import { sinkKeys } from '../schema.ts';
import type { Definition, LogEntry } from '../types.ts';
import { tlsClientSettings, tlsKeys } from './tls-client.ts';
import { attemptError, attemptSignal, encodeJson, type MeasuredWriter, type OnBadEntry } from './writer.ts';

const gzip = promisify(gzipCallback);

const auth = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('basic'), user: z.string(), password: z.string().default('') }),
  z.strictObject({ strategy: z.literal('bearer'), token: z.string().min(1) }),
]);

const schema = z.strictObject({
  type: z.literal('http'),
  ...sinkKeys,
  /** Where batches go: an http:// or https:// URL. */
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  method: z.enum(['POST', 'PUT']).default('POST'),
  /** ndjson: one JSON object per line (application/x-ndjson); json: one JSON array (application/json). */
  encoding: z.enum(['ndjson', 'json']).default('ndjson'),
  /** gzip sends `Content-Encoding: gzip`. */
  compression: z.enum(['none', 'gzip']).default('none'),
  /** 1 (fastest) to 9 (smallest). */
  compression_level: z.number().int().min(1).max(9).default(1),
  /** Extra request headers; Content-Type may be overridden, Content-Encoding and Content-Length may not. */
  headers: z.record(z.string(), z.string()).default({}),
  /** `{ strategy = "basic", user, password }` or `{ strategy = "bearer", token }`. */
  auth: auth.optional(),
  tls: z.strictObject({ ...tlsKeys }).prefault({}),
});
export type HttpSinkConfig = z.output<typeof schema>;

/** Bytes of an error response's body kept for the log. */
const snippetBytes = 512;

export interface HttpWriterOptions {
  config: HttpSinkConfig;
  /** Directory that relative paths (tls.ca_file) are relative to. */
  configDir: string;
  onBad: OnBadEntry;
}

/**
 * Sends each batch as one request and resolves on a 2xx. Other statuses throw responseError's
 * DeliveryError (5xx, 408 and 429 retryable, with Retry-After; other 4xx not), with the start of
 * the response body in `details.body`; network errors and timeouts are retryable.
 */
export class HttpWriter implements MeasuredWriter {
  lastBytes: number | undefined;
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #headers: Record<string, string>;
  readonly #config: HttpSinkConfig;
  readonly #onBad: OnBadEntry;

  constructor(options: HttpWriterOptions) {
    const { config } = options;
    this.#config = config;
    this.#onBad = options.onBad;
    this.#url = new URL(config.url);
    this.#headers = requestHeaders(config);
    // One batch is in flight at a time, so one kept-alive connection does the work; a few more cover overlap.
    const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 4 };
    if (this.#url.protocol === 'https:') {
      const tls = tlsClientSettings(config.tls, options.configDir, 'tls.ca_file');
      this.#agent = new HttpsAgent({ ...agentOptions, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized });
      this.#request = httpsRequest;
    } else {
      this.#agent = new HttpAgent(agentOptions);
      this.#request = httpRequest;
    }
  }

  async write(entries: readonly LogEntry[], signal: AbortSignal): Promise<void> {
    if (entries.length === 0) return;
    const { encoding, compression, compression_level: level, request_timeout: timeoutMs } = this.#config;
    const raw = Buffer.from(encodeJson(entries, encoding === 'json' ? 'array' : 'ndjson', this.#onBad));
    const body = compression === 'gzip' ? await gzip(raw, { level }) : raw;
    const attempt = attemptSignal(signal, timeoutMs);
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = this.#request(this.#url, {
          method: this.#config.method, agent: this.#agent, signal: attempt,
          headers: { ...this.#headers, 'content-length': String(body.length) },
        }, resolve);
        req.on('error', reject);
        req.end(body);
      });
    } catch (err) {
      throw attempt.aborted ? attemptError(attempt.reason) : attemptError(err);
    }
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      // The batch is in: the body is read and discarded so the connection can be reused.
      await drain(res);
      this.lastBytes = raw.length;
      return;
    }
    const snippet = await readSnippet(res).catch(() => '');
    const headers = new Headers();
    const retryAfter = res.headers['retry-after'];
    if (typeof retryAfter === 'string') headers.set('retry-after', retryAfter);
    const err = responseError({ ok: false, status, headers }) ?? new DeliveryError(`status ${status}`, { retryable: false });
    if (snippet !== '') err.details.body = snippet;
    throw err;
  }

  close(): Promise<void> {
    this.#agent.destroy();
    return Promise.resolve();
  }
}

/** Reads a response to its end (errors included: the outcome is already known). */
function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', resolve);
    res.resume();
  });
}

function requestHeaders(config: HttpSinkConfig): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': `opsctl/${versionInfo().version}`,
    'content-type': config.encoding === 'json' ? 'application/json' : 'application/x-ndjson',
  };
  for (const [name, value] of Object.entries(config.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-encoding' || lower === 'content-length' || lower === 'transfer-encoding') continue;
    headers[lower] = value;
  }
  if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
  const a = config.auth;
  if (a?.strategy === 'basic') headers.authorization = `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}`;
  if (a?.strategy === 'bearer') headers.authorization = `Bearer ${a.token}`;
  return headers;
}

/** The start of an error response's body, as text; the rest is discarded. */
async function readSnippet(body: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= snippetBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, snippetBytes).toString('utf8').trim();
}

/** `[sinks.api] type = "http"`: see the schema for keys and defaults. */
export const http = {
  schema,
  create(config, ctx): MeasuredWriter {
    return new HttpWriter({ config, configDir: ctx.configDir, onBad: () => { ctx.counters.error('encode'); } });
  },
} satisfies Definition<typeof schema, MeasuredWriter>;
