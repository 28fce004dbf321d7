// The API's errors: every failure answers `{ error: { code, message, details } }` with an OPS_ERR_*
// code and the HTTP status that code means; nothing a client sends is ever a 500.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isOpsError, OpsError, type ErrorCode } from '../core/errors.ts';

/** The body of every API error. */
export interface ApiErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }

/** HTTP status by code; codes not listed are 500 (a bug). */
const statusOf: Partial<Record<ErrorCode, number>> = {
  OPS_ERR_API_BAD_REQUEST: 400,
  OPS_ERR_SELECTOR: 400,
  OPS_ERR_API_NOT_FOUND: 404,
  OPS_ERR_API_CONFLICT: 409,
  OPS_ERR_API_TOO_LARGE: 413,
  OPS_ERR_API_INVALID: 422,
  OPS_ERR_CONFIG_INVALID: 422,
  OPS_ERR_API_UNAVAILABLE: 503,
  OPS_ERR_STORE_UNAVAILABLE: 503,
  OPS_ERR_STORE_CLOSED: 503,
  OPS_ERR_STORE_COMPACTED: 410, // a continue token older than the store's history: list again
};

/** Seconds a client should wait before retrying a 503. */
export const retryAfterSeconds = 5;

/** Sends `err` as an API error; an error with a statusCode of its own (auth, rate limit) keeps it and its headers. */
export function sendError(reply: FastifyReply, err: OpsError, status?: number): FastifyReply {
  const code = status ?? statusOf[err.code] ?? 500;
  if (code === 503) void reply.header('retry-after', String(retryAfterSeconds));
  const body: ApiErrorBody = { error: { code: err.code, message: err.message, details: err.details } };
  return reply.code(code).type('application/json; charset=utf-8').send(body);
}

/** The API's error and not-found handlers on `app` (a plugin scope: /api/v1). */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isOpsError(err)) {
      const own = err as OpsError & { statusCode?: number; headers?: Record<string, string> };
      if (own.headers) void reply.headers(own.headers);
      return sendError(reply, err, own.statusCode);
    }
    // fastify's own: body too large, invalid JSON, unsupported content type, schema validation.
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, new OpsError('OPS_ERR_API_TOO_LARGE', 'request body too large', { details: { limit: req.routeOptions.bodyLimit } }));
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, new OpsError('OPS_ERR_API_BAD_REQUEST', err.message, { details: { reason: err.code ?? 'bad request' } }), err.statusCode === 415 ? 415 : 400);
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, new OpsError('OPS_ERR_INTERNAL', 'internal error (logged on the server)'));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new OpsError('OPS_ERR_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`)));
}

/** An OpsError with an HTTP status and headers of its own (401/403 with WWW-Authenticate, 429). */
export function httpError(code: ErrorCode, message: string, statusCode: number, headers: Record<string, string> = {}, details: Record<string, unknown> = {}): OpsError & { statusCode: number; headers: Record<string, string> } {
  return Object.assign(new OpsError(code, message, { details }), { statusCode, headers });
}
