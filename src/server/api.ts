// The HTTP API under /api/v1: one table of routes (method, path, scope, schemas, handler) that both
// registers them on fastify and writes the OpenAPI document, so the two cannot disagree. Every
// route is authenticated (bearer JWT with a scope), rate limited, and audited when it mutates or
// is denied.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { OpsError } from '../core/errors.ts';
import type { Store } from '../store/index.ts';
import { auditPrefix, decodeAudit, type AuditLog } from './audit.ts';
import { configKey, configName, configPrefix, configWriteSchema, decodeConfig, deleteConfig, putConfig } from './configs.ts';
import { registerErrorHandlers, httpError } from './errors.ts';
import { listPage } from './list.ts';

/** Who is calling, once their token verified. */
export interface Principal { subject: string; scopes: ReadonlySet<string> }

export type Scope = 'ops:read' | 'ops:write' | 'ops:admin' | 'agent';

/** Verifies a request's bearer token for a scope: resolves the principal, or throws an httpError (401/403, RFC 6750 headers). */
export interface Authenticator {
  authenticate(authorization: string | undefined, scope: Scope): Promise<Principal>;
}

/** Per-key token buckets: `take` answers whether a request may go on, and the RateLimit-* headers. */
export interface RateLimiter {
  take(key: string): { ok: boolean; headers: Record<string, string> };
}

/** The nodes the agent link knows, with their status. */
export interface NodesView {
  list(query: Record<string, string | undefined>): Promise<unknown>;
  get(name: string): Promise<unknown>;
  forget(name: string): Promise<number>;
}

/** The rollout of one config document: per node, the revision applied or its error. */
export interface RolloutView {
  rollout(name: string): Promise<unknown>;
}

export interface ApiOptions {
  store: Store;
  auth: Authenticator;
  limiter?: RateLimiter | undefined;
  audit: AuditLog;
  log: Logger;
  /** Throws OPS_ERR_SELECTOR when `text` is not a label selector. */
  checkSelector(text: string): void;
  nodes?: NodesView | undefined;
  rollouts?: RolloutView | undefined;
  /** The rate-limit key of a client address (IPv6 by /64); default the address. */
  clientKey?: ((ip: string) => string) | undefined;
  /** Largest request body (bytes); default fastify's (1 MiB). */
  bodyLimit?: number | undefined;
}

interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** fastify path under /api/v1 (":name" parameters). */
  path: string;
  scope: Scope;
  summary: string;
  /** What it acts on, for the audit record. */
  target?: (params: Record<string, string>) => string;
  query?: z.ZodType;
  body?: z.ZodType;
  handler(req: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<unknown>;
}

const listQuery = z.object({
  limit: z.string().optional().describe('Most items per page (1 to 1000, default 100).'),
  continue: z.string().optional().describe('The token of the previous page.'),
  selector: z.string().optional().describe('A label selector: role=web,env!=dev'),
});

/** The revision a write answers with: also in the ETag header. */
function withRevision(reply: FastifyReply, revision: number): void {
  void reply.header('etag', `"${revision}"`);
  (reply.request as { opsctlRevision?: number }).opsctlRevision = revision;
}

/** The revision an `If-Match: "12"` header names, or the body's, or none. */
function ifMatch(req: FastifyRequest, bodyRevision: number | undefined): number | undefined {
  const header = req.headers['if-match'];
  if (typeof header !== 'string' || header === '*') return bodyRevision;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!m) throw new OpsError('OPS_ERR_API_BAD_REQUEST', `If-Match: expected a revision such as "12", got ${header}`, { details: { header: 'if-match' } });
  return Number(m[1]);
}

function param(req: FastifyRequest, name: string): string {
  return (req.params as Record<string, string>)[name] ?? '';
}

function routes(o: ApiOptions): Route[] {
  const { store } = o;
  const name = (req: FastifyRequest): string => {
    const n = param(req, 'name');
    const parsed = configName.safeParse(n);
    if (!parsed.success) throw new OpsError('OPS_ERR_API_BAD_REQUEST', `name "${n}": ${parsed.error.issues[0]?.message ?? 'invalid'}`, { details: { parameter: 'name' } });
    return n;
  };
  const out: Route[] = [
    {
      method: 'GET', path: '/configs', scope: 'ops:read', summary: 'List config documents.', query: listQuery,
      handler: async (req) => listPage(store, configPrefix, req.query as Record<string, string>, decodeConfig),
    },
    {
      method: 'GET', path: '/configs/:name', scope: 'ops:read', summary: 'Get one config document.',
      handler: async (req, reply) => {
        const kv = await store.get(configKey(name(req)));
        const doc = kv && decodeConfig(kv);
        if (!doc) throw new OpsError('OPS_ERR_API_NOT_FOUND', `no config "${name(req)}"`, { details: { kind: 'config', name: name(req) } });
        void reply.header('etag', `"${doc.revision}"`);
        return doc;
      },
    },
    {
      method: 'PUT', path: '/configs/:name', scope: 'ops:write', summary: 'Create or replace a config document (409 when `revision` or If-Match is not current, 422 when its body does not fit its kind).',
      body: configWriteSchema, target: (p) => `config/${p.name ?? ''}`,
      handler: async (req, reply, principal) => {
        const parsed = configWriteSchema.safeParse(req.body);
        if (!parsed.success) throw invalid(parsed.error);
        const write = { ...parsed.data, revision: ifMatch(req, parsed.data.revision) };
        const { doc, created } = await putConfig(store, name(req), write, principal.subject, (text) => { o.checkSelector(text); });
        withRevision(reply, doc.revision);
        void reply.code(created ? 201 : 200);
        return doc;
      },
    },
    {
      method: 'DELETE', path: '/configs/:name', scope: 'ops:write', summary: 'Delete a config document (only at `?revision=` or If-Match when given).',
      target: (p) => `config/${p.name ?? ''}`,
      handler: async (req, reply) => {
        const q = req.query as Record<string, string | undefined>;
        const revision = q.revision === undefined ? undefined : Number(q.revision);
        if (revision !== undefined && !Number.isSafeInteger(revision)) throw new OpsError('OPS_ERR_API_BAD_REQUEST', 'revision: expected a whole number', { details: { parameter: 'revision' } });
        const rev = await deleteConfig(store, name(req), ifMatch(req, revision));
        withRevision(reply, rev);
        return { deleted: name(req), revision: rev };
      },
    },
    {
      method: 'GET', path: '/audit', scope: 'ops:read', summary: 'List audit records, oldest first (`since`: an ISO time; `subject`: one subject).',
      query: listQuery.extend({ since: z.string().optional(), subject: z.string().optional() }),
      handler: async (req) => {
        const q = req.query as Record<string, string | undefined>;
        const since = q.since === undefined ? undefined : Date.parse(q.since);
        if (since !== undefined && Number.isNaN(since)) throw new OpsError('OPS_ERR_API_BAD_REQUEST', `since: expected an ISO 8601 time, got "${q.since ?? ''}"`, { details: { parameter: 'since' } });
        return listPage(store, auditPrefix, q, decodeAudit, (r) => (since === undefined || Date.parse(r.time) >= since) && (q.subject === undefined || r.subject === q.subject));
      },
    },
  ];
  if (o.rollouts) {
    const rollouts = o.rollouts;
    out.push({
      method: 'GET', path: '/configs/:name/rollout', scope: 'ops:read', summary: 'Per node: the revision of the document it applied, or its error; nodes that match and have not answered are pending.',
      handler: async (req) => rollouts.rollout(name(req)),
    });
  }
  if (o.nodes) {
    const nodes = o.nodes;
    out.push(
      {
        method: 'GET', path: '/nodes', scope: 'ops:read', summary: 'List nodes with labels, facts, status (ready, not_ready, unknown) and its reason.', query: listQuery,
        handler: async (req) => nodes.list(req.query as Record<string, string | undefined>),
      },
      {
        method: 'GET', path: '/nodes/:name', scope: 'ops:read', summary: 'Get one node.',
        handler: async (req) => nodes.get(param(req, 'name')),
      },
      {
        method: 'DELETE', path: '/nodes/:name', scope: 'ops:write', summary: 'Forget a node (it registers again when its agent next connects).',
        target: (p) => `node/${p.name ?? ''}`,
        handler: async (req, reply) => {
          const rev = await nodes.forget(param(req, 'name'));
          withRevision(reply, rev);
          return { deleted: param(req, 'name'), revision: rev };
        },
      },
    );
  }
  return out;
}

function invalid(error: z.ZodError): OpsError {
  const issues = error.issues.map((i) => ({ key: i.path.join('.') || '(body)', message: i.message }));
  return new OpsError('OPS_ERR_API_INVALID', issues.map((i) => `${i.key}: ${i.message}`).join('; '), { details: { key: issues[0]?.key, issues } });
}

/** Where the route table's handlers keep the principal. */
interface AuthedRequest { opsctlPrincipal?: Principal; opsctlRevision?: number }

/** Registers /api/v1 (as a fastify plugin scope) with auth, rate limits, audit and the OpenAPI document. */
export async function registerApi(app: FastifyInstance, o: ApiOptions): Promise<void> {
  const table = routes(o);
  await app.register((api, _opts, done) => {
    registerErrorHandlers(api);
    api.addHook('onResponse', async (req, reply) => {
      const status = reply.statusCode;
      const mutating = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
      const denied = status === 401 || status === 403 || status === 429;
      if (!mutating && !denied) return;
      const r = req as FastifyRequest & AuthedRequest;
      const route = table.find((x) => x.method === req.method && `/api/v1${x.path}` === req.routeOptions.url);
      const target = route?.target?.(req.params as Record<string, string>);
      o.audit.record({
        subject: r.opsctlPrincipal?.subject ?? '-', client: req.ip, method: req.method, path: req.url.split('?')[0] ?? req.url,
        status, outcome: denied ? 'denied' : status < 400 ? 'success' : 'failure',
        ...(target !== undefined && { target }), ...(r.opsctlRevision !== undefined && { revision: r.opsctlRevision }),
      });
    });
    for (const route of table) {
      api.route({
        method: route.method, url: route.path, ...(o.bodyLimit !== undefined && { bodyLimit: o.bodyLimit }),
        onRequest: async (req, reply) => {
          let principal: Principal;
          try {
            principal = await o.auth.authenticate(req.headers.authorization, route.scope);
          } catch (err) {
            // Failed or missing auth counts against the client's address.
            limit(o.limiter, `ip:${o.clientKey?.(req.ip) ?? req.ip}`, reply);
            throw err;
          }
          limit(o.limiter, `sub:${principal.subject}`, reply);
          (req as FastifyRequest & AuthedRequest).opsctlPrincipal = principal;
        },
        handler: async (req, reply) => route.handler(req, reply, (req as FastifyRequest & AuthedRequest).opsctlPrincipal as Principal),
      });
    }
    api.get('/openapi.json', (_req, reply) => reply.send(openApiDocument(table)));
    done();
  }, { prefix: '/api/v1' });
}

function limit(limiter: RateLimiter | undefined, key: string, reply: FastifyReply): void {
  if (!limiter) return;
  const { ok, headers } = limiter.take(key);
  void reply.headers(headers);
  if (!ok) throw httpError('OPS_ERR_RATE_LIMITED', 'too many requests: slow down and retry after Retry-After', 429, headers);
}

/** The OpenAPI 3.1 document of the route table (bodies and queries from their zod schemas). */
export function openApiDocument(table: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { $ref: '#/components/schemas/Error' };
  for (const r of table) {
    const path = `/api/v1${r.path.replace(/:(\w+)/g, '{$1}')}`;
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = r.query ? Object.entries((z.toJSONSchema(r.query, { io: 'input' }) as { properties?: Record<string, { description?: string }> }).properties ?? {})
      .map(([name, schema]) => ({ name, in: 'query', required: false, schema, ...(schema.description !== undefined && { description: schema.description }) })) : [];
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      security: [{ bearer: [r.scope] }],
      parameters: [...params, ...query],
      ...(r.body && { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input' }) } } } }),
      responses: {
        200: { description: 'OK' },
        ...(r.method === 'PUT' && { 201: { description: 'Created' }, 409: { description: 'Revision conflict', content: { 'application/json': { schema: error } } }, 422: { description: 'Invalid', content: { 'application/json': { schema: error } } } }),
        400: { description: 'Bad request', content: { 'application/json': { schema: error } } },
        401: { description: 'Missing or invalid token (WWW-Authenticate: Bearer error="invalid_token")', content: { 'application/json': { schema: error } } },
        403: { description: `Token lacks scope ${r.scope} (error="insufficient_scope")`, content: { 'application/json': { schema: error } } },
        404: { description: 'Not found', content: { 'application/json': { schema: error } } },
        429: { description: 'Rate limited (Retry-After, RateLimit-*)', content: { 'application/json': { schema: error } } },
        503: { description: 'Store unavailable (Retry-After)', content: { 'application/json': { schema: error } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'opsctl server API', version: 'v1' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object', required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message', 'details'], properties: { code: { type: 'string', pattern: '^OPS_ERR_' }, message: { type: 'string' }, details: { type: 'object' } } } },
        },
      },
    },
  };
}
