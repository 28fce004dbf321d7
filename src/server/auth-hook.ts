// Bearer authentication for fastify routes: RFC 6750 answers (401/403 + WWW-Authenticate), then the rate limit.
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AuthFailure, Identity, Verifier } from './auth.ts';
import { applyRateLimit, clientKey, errorBody, type RateLimiter } from './rate-limit.ts';
import { hasScope, isScope, type Scope } from './scopes.ts';

/** What a route needs: a scope, or 'public' (no token; still rate-limited per client IP). */
export type RouteScope = Scope | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, set by the auth hook. */
    identity?: Identity | undefined;
  }
  interface FastifyContextConfig {
    /** The scope the route needs (authPlugin refuses to register a route without one). */
    scope?: RouteScope;
  }
}

export interface AuthHookOptions {
  verifier: Verifier;
  /** Charged per subject after authentication, per client IP before it (no token, a failed one, public routes). */
  limiter?: RateLimiter | undefined;
  /** The realm in WWW-Authenticate; default "opsctl". */
  realm?: string;
}

/** A quoted-string safe value for a WWW-Authenticate attribute (RFC 6750 §3: printable ASCII without `"` and `\`). */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/**
 * The WWW-Authenticate value: just the realm for a request with no bearer token (RFC 6750
 * §3.1), `invalid_token` for a bad one, `insufficient_scope` with the scope needed.
 */
export function wwwAuthenticate(realm: string, failure?: AuthFailure | { scope: Scope }): string {
  const base = `Bearer realm="${quoted(realm)}"`;
  if (failure === undefined) return base;
  if ('scope' in failure) return `${base}, error="insufficient_scope", error_description="the token lacks scope ${failure.scope}", scope="${failure.scope}"`;
  if (failure.code === 'OPS_ERR_AUTH_MISSING') return base;
  return `${base}, error="invalid_token", error_description="${quoted(failure.message)}"`;
}

/** Authenticates, rate-limits and checks the scope; answers and returns false when the request must stop here. */
async function guard(request: FastifyRequest, reply: FastifyReply, scope: RouteScope | undefined, options: AuthHookOptions): Promise<boolean> {
  const realm = options.realm ?? 'opsctl';
  const limit = (key: string): boolean => options.limiter === undefined || applyRateLimit(options.limiter, key, reply);
  if (scope === 'public') return limit(clientKey(request.ip));
  const result = await options.verifier.verify(request.headers.authorization);
  if (!result.ok) {
    if (!limit(clientKey(request.ip))) return false;
    const { code, message, details } = result.failure;
    void reply.code(401).header('www-authenticate', wwwAuthenticate(realm, result.failure)).send(errorBody(code, message, details));
    return false;
  }
  const identity = result.identity;
  if (!limit(`sub:${identity.subject}`)) return false;
  request.identity = identity;
  if (scope !== undefined && !hasScope(identity.scopes, scope)) {
    void reply.code(403).header('www-authenticate', wwwAuthenticate(realm, { scope }))
      .send(errorBody('OPS_ERR_AUTH_SCOPE', `this request needs scope ${scope}; the token has ${identity.scopes.join(' ') || 'none'}`, { required: scope, held: identity.scopes }));
    return false;
  }
  return true;
}

/**
 * An onRequest hook for one route.
 * @example
 *   app.post('/api/v1/config/:name', { onRequest: requireScope('ops:write', { verifier, limiter }) }, handler);
 */
export function requireScope(scope: RouteScope, options: AuthHookOptions): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (!await guard(request, reply, scope, options)) return reply;
  };
}

/**
 * One onRequest hook for the routes of the context it is registered in (like a fastify-plugin
 * plugin, it does not open a context of its own), reading each route's scope from its config.
 * Registering a route there without `config.scope` throws, so no route is left open by omission.
 * Routes of other contexts (/metrics, /healthz on the root) are not affected. A not-found handler
 * set in the same context answers 404 only to valid tokens (its config has no scope).
 * @example
 *   await app.register(async (api) => {
 *     await api.register(authPlugin, { verifier, limiter });
 *     api.get('/nodes', { config: { scope: 'ops:read' } }, listNodes);
 *   }, { prefix: '/api/v1' });
 */
export const authPlugin: FastifyPluginCallback<AuthHookOptions> = Object.assign((app: FastifyInstance, options: AuthHookOptions, done: (err?: Error) => void) => {
  app.decorateRequest('identity', undefined);
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope;
    if (scope === undefined || (scope !== 'public' && !isScope(scope))) {
      throw new Error(`route ${route.method.toString()} ${route.url}: config.scope must be a scope or "public", got ${String(scope)}`);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!await guard(request, reply, request.routeOptions.config.scope, options)) return reply;
  });
  done();
}, { [Symbol.for('skip-override')]: true });
