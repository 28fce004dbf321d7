// What the http prober reads from a response: facts from the head, the status and header checks,
// and the body (decompressed, bounded by max_body_size).
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { formatSize } from '../../core/units.ts';
import { abortedReason, netErrorReason, show } from './network.ts';

/** A fail_if_header_(not_)matches entry. */
export interface HeaderMatch {
  header: string;
  regexp: RegExp;
  allow_missing: boolean;
}

/**
 * `status`, `http_version`, `headers` (lower-case names with "-" as "_", repeated ones joined
 * with ", "), `content_length` (-1 when not given, as Go reports it) and `last_modified` (unix seconds).
 */
export function headerFacts(response: IncomingMessage): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(response.headersDistinct)) {
    if (values !== undefined) headers[name.replaceAll('-', '_')] = values.join(', ');
  }
  const length = Number(response.headers['content-length'] ?? NaN);
  const facts: Record<string, unknown> = {
    status: response.statusCode ?? 0,
    http_version: response.httpVersion,
    headers,
    content_length: Number.isInteger(length) ? length : -1,
  };
  const modified = Date.parse(response.headers['last-modified'] ?? '');
  if (Number.isFinite(modified)) facts.last_modified = modified / 1000;
  return facts;
}

/** Why a status is not accepted ("status 503, expected 2xx"), or undefined. An empty list accepts any 2xx. */
export function statusFailure(status: number, valid: readonly number[]): string | undefined {
  if (valid.length === 0) return status >= 200 && status < 300 ? undefined : `status ${status}, expected 2xx`;
  return valid.includes(status) ? undefined : `status ${status}, expected ${valid.length === 1 ? '' : 'one of '}${valid.join(', ')}`;
}

/** The first failed header check, as blackbox runs them: any value matching fails; for "not", no value matching fails. */
export function headerFailure(response: IncomingMessage, matches: readonly HeaderMatch[], notMatches: readonly HeaderMatch[]): string | undefined {
  for (const [specs, negate] of [[matches, false], [notMatches, true]] as const) {
    for (const spec of specs) {
      const values = response.headersDistinct[spec.header.toLowerCase()] ?? [];
      if (values.length === 0) {
        if (spec.allow_missing) continue;
        return `header ${spec.header} missing`;
      }
      const any = values.some((v) => spec.regexp.test(v));
      if (!negate && any) return `header ${spec.header} matched ${show(spec.regexp)}`;
      if (negate && !any) return `header ${spec.header} did not match ${show(spec.regexp)}`;
    }
  }
  return undefined;
}

/** application/json, application/problem+json, text/json... */
export function isJsonType(contentType: string): boolean {
  return /^[\w.-]+\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType);
}

export interface ReadBodyOptions {
  /** Most bytes to read (after decompression); past it the read stops with an error. */
  limit: number;
  /** Keep the text (for regexes and JSON); otherwise bytes are only counted. */
  keep: boolean;
  signal: AbortSignal;
}

/**
 * Reads a response body, decoding gzip/deflate/br when the server used them. Never throws:
 * `{ size, error }` when it stopped early (too large, connection lost, aborted).
 */
export async function readBody(response: IncomingMessage, options: ReadBodyOptions): Promise<{ size: number; text?: string } | { size: number; error: string }> {
  const decoder = decoderFor(response.headers['content-encoding']);
  const stream: Readable = decoder === undefined ? response : pipeline(response, decoder, () => { /* errors surface in the loop below */ });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.limit) return { size, error: `body larger than ${formatSize(options.limit).replace('.0', '')}` };
      if (options.keep) chunks.push(chunk);
    }
  } catch (err) {
    if (options.signal.aborted) return { size, error: abortedReason(options.signal, 'reading the body') };
    return { size, error: `reading the body: ${netErrorReason(err)}` };
  }
  if (!response.complete) return { size, error: options.signal.aborted ? abortedReason(options.signal, 'reading the body') : 'connection closed before the body ended' };
  return options.keep ? { size, text: Buffer.concat(chunks).toString('utf8') } : { size };
}

function decoderFor(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip': case 'x-gzip': return createGunzip();
    case 'deflate': return createInflate();
    case 'br': return createBrotliDecompress();
    default: return undefined;
  }
}

/**
 * FNV-1a (32 bit) over the address bytes, as blackbox's probe_ip_addr_hash: a value that changes
 * when the target's address does.
 */
export function ipAddrHash(address: string): number {
  let h = 0x811c9dc5;
  for (const byte of addressBytes(address)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function addressBytes(address: string): number[] {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4 !== undefined) return v4.split('.').map(Number);
  const [head = '', tail] = address.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').flatMap((g) => (isIPv4(g) ? [] : [parseInt(g, 16)])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  const v4Bytes = embedded === undefined ? [] : embedded.split('.').map(Number);
  const zeros = 8 - left.length - right.length - v4Bytes.length / 2;
  const words = [...left, ...Array<number>(Math.max(0, zeros)).fill(0), ...right];
  return [...words.flatMap((w) => [w >> 8, w & 0xff]), ...v4Bytes];
}
