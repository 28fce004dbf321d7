// The API's auth and rate limits from [server.auth] and [server.rate_limit]: the verifier of
// auth.ts as the Authenticator api.ts and the agent link call, and RateLimiter as api.ts's limiter.
import type { Logger } from 'pino';
import type { Authenticator, RateLimiter as ApiRateLimiter, Scope } from './api.ts';
import { createVerifier, ensureDefaultKey, type AuthConfig, type Verifier } from './auth.ts';
import { wwwAuthenticate } from './auth-hook.ts';
import { httpError } from './errors.ts';
import { RateLimiter, rateLimitHeaders } from './rate-limit.ts';
import type { RateLimitConfig } from './config.ts';
import { hasScope } from './scopes.ts';

const realm = 'opsctl';

export interface LoadedAuth {
  /** The config with the default secret filled in when none was configured. */
  config: AuthConfig;
  verifier: Verifier;
  /** For the log: which key verifies tokens. */
  describe(): Record<string, unknown>;
}

/**
 * The configured key, or the embedded default (an HS256 secret under data_dir: created on first
 * start when `create`, else OPS_ERR_AUTH_KEY), and its verifier.
 */
export async function loadAuth(config: AuthConfig, dataDir: string, options: { create: boolean; log?: Logger }): Promise<LoadedAuth> {
  const full = await ensureDefaultKey(dataDir, config, { create: options.create });
  const verifier = await createVerifier(full);
  const isDefault = config.secret_file === undefined && config.jwks_file === undefined;
  return {
    config: full, verifier,
    describe: () => ({ key: full.jwks_file ?? full.secret_file, default: isDefault, issuer: full.issuer, audience: full.audience }),
  };
}

/** Bearer tokens checked by `verifier`, then the scope: 401 or 403 with RFC 6750's WWW-Authenticate. */
export function createAuthenticator(verifier: Verifier): Authenticator {
  return {
    async authenticate(authorization, scope: Scope) {
      const result = await verifier.verify(authorization);
      if (!result.ok) {
        const { code, message, details } = result.failure;
        throw httpError(code, message, 401, { 'www-authenticate': wwwAuthenticate(realm, result.failure) }, details);
      }
      const { identity } = result;
      if (!hasScope(identity.scopes, scope)) {
        throw httpError('OPS_ERR_AUTH_SCOPE', `the token of "${identity.subject}" lacks the scope ${scope}`, 403, { 'www-authenticate': wwwAuthenticate(realm, { scope }) }, { required: scope, held: identity.scopes });
      }
      return { subject: identity.subject, scopes: new Set(identity.scopes) };
    },
  };
}

/** Token buckets per key, with the RateLimit-* headers. */
export function createRateLimiter(config: RateLimitConfig): ApiRateLimiter {
  const limiter = new RateLimiter({ rate: config.rate, burst: config.burst, maxKeys: config.max_keys });
  return {
    take(key) {
      const d = limiter.take(key);
      return { ok: d.allowed, headers: rateLimitHeaders(d) };
    },
  };
}
