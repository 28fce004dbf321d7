// Stable, coded errors. Every code here is documented in docs/errors.md (a test checks it).

/** Every error code opsctl can raise, with the exit code the CLI uses for it. */
export const errorCodes = {
  OPS_ERR_CONFIG_READ: { exit: 78, summary: 'The config file could not be read.' },
  OPS_ERR_CONFIG_PARSE: { exit: 78, summary: 'The config file is not valid TOML.' },
  OPS_ERR_CONFIG_INVALID: { exit: 78, summary: 'A config value is missing, unknown or of the wrong type.' },
  OPS_ERR_EXPR_SYNTAX: { exit: 64, summary: 'An expression (filter or condition) could not be parsed.' },
  OPS_ERR_EXPR_FIELD: { exit: 64, summary: 'An expression names a field the record does not have.' },
  OPS_ERR_USAGE: { exit: 64, summary: 'A command-line argument or option is invalid.' },
  OPS_ERR_PROCFS: { exit: 74, summary: 'The procfs root could not be read.' },
  OPS_ERR_SNAPSHOT_READ: { exit: 66, summary: 'A snapshot file could not be read or is not an opsctl snapshot.' },
  OPS_ERR_LISTEN: { exit: 69, summary: 'A server could not bind its listen address.' },
  OPS_ERR_SHUTDOWN_TIMEOUT: { exit: 70, summary: 'Graceful shutdown did not finish before its deadline.' },
  OPS_ERR_WEBHOOK: { exit: 69, summary: 'A webhook delivery failed after all retries.' },
  OPS_ERR_STORE_URL: { exit: 78, summary: 'The store URL or its TLS and auth options are invalid.' },
  OPS_ERR_STORE_OPEN: { exit: 74, summary: 'The SQLite store file could not be opened or created.' },
  OPS_ERR_STORE_LOCKED: { exit: 75, summary: 'The SQLite store file is in use by another process.' },
  OPS_ERR_STORE_UNAVAILABLE: { exit: 69, summary: 'The store could not be reached or did not answer in time (retryable).' },
  OPS_ERR_STORE_AUTH: { exit: 77, summary: 'The store refused the credentials, or the user lacks a permission.' },
  OPS_ERR_STORE_COMPACTED: { exit: 75, summary: 'A revision asked of the store was compacted: list again, then watch from the list.' },
  OPS_ERR_STORE_LEASE_NOT_FOUND: { exit: 75, summary: 'A store lease expired or was revoked.' },
  OPS_ERR_STORE_REQUEST: { exit: 70, summary: 'A store request is invalid (a bug): empty or duplicate keys, a future revision.' },
  OPS_ERR_STORE_CLOSED: { exit: 70, summary: 'The store was used after close().' },
  OPS_ERR_API_BAD_REQUEST: { exit: 64, summary: 'An API request is malformed: invalid JSON, a bad query parameter or continue token (HTTP 400).' },
  OPS_ERR_API_NOT_FOUND: { exit: 66, summary: 'The API object asked for does not exist (HTTP 404).' },
  OPS_ERR_API_CONFLICT: { exit: 75, summary: 'A write named a revision that is no longer current: read again and retry (HTTP 409).' },
  OPS_ERR_API_INVALID: { exit: 65, summary: 'An API object failed validation; details name the key (HTTP 422).' },
  OPS_ERR_API_TOO_LARGE: { exit: 65, summary: 'An API request body is larger than the server accepts (HTTP 413).' },
  OPS_ERR_API_UNAVAILABLE: { exit: 69, summary: 'The server cannot answer now (its store is unreachable); retry after Retry-After (HTTP 503).' },
  OPS_ERR_RATE_LIMITED: { exit: 75, summary: 'Too many requests from one token subject or client address (HTTP 429, Retry-After).' },
  OPS_ERR_SELECTOR: { exit: 64, summary: 'A label selector could not be parsed.' },
  OPS_ERR_LINK_RECORD: { exit: 65, summary: 'A node, link, config or rollout record in the store does not match its schema.' },
  OPS_ERR_LINK_PROTOCOL: { exit: 76, summary: 'An agent link message was malformed, unknown, oversized or out of order.' },
  OPS_ERR_LINK_AUTH: { exit: 77, summary: 'The server refused the agent link: bad or expired token, or no `agent` scope.' },
  OPS_ERR_LINK_UNAVAILABLE: { exit: 69, summary: 'This server replica takes no agent links now (starting, stopping or without its store lease).' },
  OPS_ERR_LINK_TOKEN: { exit: 78, summary: 'The agent token file could not be read or is empty.' },
  OPS_ERR_AUTH_MISSING: { exit: 77, summary: 'An API request carried no bearer token.' },
  OPS_ERR_AUTH_MALFORMED: { exit: 77, summary: 'A bearer token is not a well-formed JWT (or is too long).' },
  OPS_ERR_AUTH_INVALID: { exit: 77, summary: 'A bearer token failed verification: signature, key, algorithm or claims.' },
  OPS_ERR_AUTH_EXPIRED: { exit: 77, summary: 'A bearer token has expired.' },
  OPS_ERR_AUTH_SCOPE: { exit: 77, summary: 'A bearer token lacks the scope the request needs.' },
  OPS_ERR_AUTH_KEY: { exit: 78, summary: 'A token signing or verification key is missing, unsafe or unusable.' },
  OPS_ERR_INTERNAL: { exit: 70, summary: 'An unexpected internal error (a bug: please report it).' },
} as const satisfies Record<string, { exit: number; summary: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface OpsErrorOptions {
  /** Structured context (file, line, key, column...) that callers and logs can read. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An error with a stable code. Expected outcomes (a probe fails, a process vanished) are
 * values, not OpsErrors; OpsError is for what the user must fix or what we cannot go on from.
 *
 * @example
 *   throw new OpsError('OPS_ERR_CONFIG_INVALID', 'examples/opsctl.toml:4: listen: expected host:port');
 */
export class OpsError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OpsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OpsError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The process exit code for this error (sysexits-style). */
  get exitCode(): number {
    return errorCodes[this.code].exit;
  }
}

export function isOpsError(err: unknown, code?: ErrorCode): err is OpsError {
  return err instanceof OpsError && (code === undefined || err.code === code);
}

/** Node's errno code of an error, if it has one (ENOENT, ESRCH, EACCES...). */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
