// Request rate limits (a token bucket per subject or client IP) and open connections per client IP. Per replica.
import { isIPv6 } from 'node:net';
import type { Server } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.ts';

export interface RateLimiterOptions {
  /** Tokens added per second: the sustained request rate. */
  rate: number;
  /** The bucket's size: requests allowed at once after being idle. */
  burst: number;
  /** Buckets kept; past it the least recently used bucket is dropped. */
  maxKeys: number;
  /** A monotonic clock in milliseconds (tests); default performance.now(). */
  now?: () => number;
}

/** One request's outcome, with what the RateLimit-* headers say. */
export interface RateDecision {
  allowed: boolean;
  /** The burst: requests a full bucket allows. */
  limit: number;
  /** Requests left right now (whole tokens). */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request is allowed (0 when this one was). */
  retryAfterSeconds: number;
}

interface Bucket { tokens: number; at: number }

/**
 * Token buckets by key. A bucket holds up to `burst` tokens and gains `rate` per second; a request
 * takes one or is refused (a refused request takes nothing). Unlike a fixed window, no instant
 * lets through more than `burst`. Memory is bounded: the Map keeps recency order and the least
 * recently used key goes past `maxKeys` (an evicted key starts again with a full bucket).
 *
 * @example
 *   const limiter = new RateLimiter({ rate: 100, burst: 200, maxKeys: 100_000 });
 *   const d = limiter.take(`sub:${identity.subject}`);
 *   if (!d.allowed) reply.code(429).headers(rateLimitHeaders(d));
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #options: Required<RateLimiterOptions>;

  constructor(options: RateLimiterOptions) {
    if (!(options.rate > 0) || !(options.burst >= 1) || !(options.maxKeys >= 1)) throw new RangeError('rate > 0, burst >= 1 and maxKeys >= 1 are needed');
    this.#options = { now: () => performance.now(), ...options };
  }

  take(key: string): RateDecision {
    const { rate, burst, maxKeys, now } = this.#options;
    const at = now();
    const old = this.#buckets.get(key);
    let tokens = burst;
    if (old) {
      this.#buckets.delete(key);
      tokens = Math.min(burst, old.tokens + (Math.max(0, at - old.at) / 1000) * rate);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.#buckets.set(key, { tokens, at });
    if (this.#buckets.size > maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((burst - tokens) / rate),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate)),
    };
  }

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }
}

/** The IETF RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers), plus Retry-After on a refusal. */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(d.resetSeconds),
  };
  if (!d.allowed) headers['retry-after'] = String(d.retryAfterSeconds);
  return headers;
}

/**
 * The rate-limit key of a client address: the IPv4 address, or the /64 of an IPv6 one (a single
 * host usually holds a whole /64, and would otherwise get a fresh bucket per address).
 */
export function clientKey(ip: string): string {
  const addr = ip.startsWith('::ffff:') && !ip.slice(7).includes(':') ? ip.slice(7) : ip;
  if (!isIPv6(addr)) return `ip:${addr}`;
  return `ip:${expandIPv6(addr).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(addr: string): string[] {
  const [head = '', tail] = addr.split('%')[0]?.split('::') ?? [''];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/** The API's error body. */
export function errorBody(code: ErrorCode, message: string, details: Record<string, unknown> = {}): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
  return { error: { code, message, details } };
}

/** Takes a token for `key`, sets the RateLimit-* headers and answers 429 when refused. True when the request may go on. */
export function applyRateLimit(limiter: RateLimiter, key: string, reply: FastifyReply): boolean {
  const d = limiter.take(key);
  void reply.headers(rateLimitHeaders(d));
  if (d.allowed) return true;
  void reply.code(429).send(errorBody('OPS_ERR_RATE_LIMITED', `too many requests: ${d.limit} at once, then the configured rate; retry in ${d.retryAfterSeconds}s`, {
    limit: d.limit, retryAfterSeconds: d.retryAfterSeconds,
  }));
  return false;
}

/** An onRequest hook limiting by client IP, for routes outside authentication (the auth hooks limit by subject themselves). */
export function rateLimitByClient(limiter: RateLimiter) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!applyRateLimit(limiter, clientKey(request.ip), reply)) return reply;
  };
}

/**
 * Open connections per client IP (HTTP keep-alive and WebSockets alike: each is one socket).
 * `attach` closes a new socket at once when its client already holds `maxPerClient`. Entries are
 * deleted at zero, so memory follows the open sockets. Per replica.
 */
export class ConnectionLimiter {
  readonly #open = new Map<string, number>();
  readonly maxPerClient: number;
  /** Sockets closed because their client was at the limit. */
  rejected = 0;

  constructor(options: { maxPerClient: number }) {
    this.maxPerClient = options.maxPerClient;
  }

  /** Counts one more connection for `ip` (a clientKey() for IPv6 /64 grouping); false (nothing counted) when it is at the limit. */
  acquire(ip: string): boolean {
    const n = this.#open.get(ip) ?? 0;
    if (n >= this.maxPerClient) {
      this.rejected++;
      return false;
    }
    this.#open.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    const n = (this.#open.get(ip) ?? 0) - 1;
    if (n > 0) this.#open.set(ip, n);
    else this.#open.delete(ip);
  }

  count(ip: string): number {
    return this.#open.get(ip) ?? 0;
  }

  /** Clients with at least one open connection. */
  get size(): number {
    return this.#open.size;
  }

  /** Applies the limit to every socket the server accepts. */
  attach(server: Server): void {
    server.on('connection', (socket) => {
      const ip = clientKey(socket.remoteAddress ?? 'unknown');
      if (!this.acquire(ip)) {
        socket.destroy();
        return;
      }
      socket.once('close', () => this.release(ip));
    });
  }
}
