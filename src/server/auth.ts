// API tokens: strict JWT bearer verification (alg pinned per key, exp required) and minting, with jose.
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { ErrorCode } from '../core/errors.ts';
import type { AuthConfig } from './config.ts';
import { loadSigningKey, loadVerificationKeys, type VerificationKeys } from './keys.ts';
import { scopesFromClaims, type Scope } from './scopes.ts';

export { serverAuthSchema, type AuthConfig } from './config.ts';
export { ensureDefaultKey } from './default-key.ts';

/** Who a valid token speaks for. */
export interface Identity {
  subject: string;
  /** The known scopes the token holds (see scopeGrants for what each one includes). */
  scopes: Scope[];
  expiresAt: Date;
  claims: JWTPayload;
}

export type AuthFailureCode = Extract<ErrorCode, 'OPS_ERR_AUTH_MISSING' | 'OPS_ERR_AUTH_MALFORMED' | 'OPS_ERR_AUTH_INVALID' | 'OPS_ERR_AUTH_EXPIRED'>;

/** Why a request is not authenticated: a value, not an exception (every token input ends in one of these). */
export interface AuthFailure {
  code: AuthFailureCode;
  message: string;
  details: Record<string, unknown>;
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; failure: AuthFailure };

export interface Verifier {
  /** Checks an Authorization header value; never throws. */
  verify(authorization: string | undefined): Promise<VerifyResult>;
}

export interface VerifierOptions {
  /** The clock (tests); default the system time. */
  now?: () => Date;
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const fail = (code: AuthFailureCode, message: string, details: Record<string, unknown> = {}): VerifyResult =>
  ({ ok: false, failure: { code, message, details } });

/**
 * Loads the configured keys (OPS_ERR_AUTH_KEY when unusable) and returns a verifier. Strict: each
 * key accepts only its own algorithm, `exp` and `sub` are required, `iss` and `aud` are checked
 * when configured, `nbf`, `iat` and `exp` get `leeway` of clock skew, and a token longer than
 * `max_token_bytes` is refused before it is parsed. Reload by creating a new verifier.
 *
 * @example
 *   const verifier = await createVerifier(config.auth);
 *   const result = await verifier.verify(request.headers.authorization);
 *   if (result.ok) log.info({ sub: result.identity.subject }, 'authenticated');
 */
export async function createVerifier(config: AuthConfig, options: VerifierOptions = {}): Promise<Verifier> {
  const keys = await loadVerificationKeys(config);
  const now = options.now ?? (() => new Date());
  return { verify: (header) => verifyHeader(header, config, keys, now()).catch((err: unknown) => rejected(err)) };
}

async function verifyHeader(header: string | undefined, config: AuthConfig, keys: VerificationKeys, now: Date): Promise<VerifyResult> {
  if (header === undefined || header.trim() === '') return fail('OPS_ERR_AUTH_MISSING', 'no bearer token');
  const max = config.max_token_bytes;
  if (header.length > max + 64) return fail('OPS_ERR_AUTH_MALFORMED', `the token is longer than ${max} bytes`, { maxTokenBytes: max });
  const [scheme = '', ...rest] = header.trim().split(/ +/);
  // RFC 6750 §3.1: a request with another scheme carries no bearer token, so it is "missing".
  if (scheme.toLowerCase() !== 'bearer') return fail('OPS_ERR_AUTH_MISSING', `no bearer token (the Authorization scheme is not Bearer)`);
  const token = rest.length === 1 ? rest[0] as string : undefined;
  if (token === undefined) return fail('OPS_ERR_AUTH_MALFORMED', 'the Authorization header is not "Bearer <token>"');
  if (Buffer.byteLength(token) > max) return fail('OPS_ERR_AUTH_MALFORMED', `the token is longer than ${max} bytes`, { maxTokenBytes: max });
  if (!compactJws.test(token)) return fail('OPS_ERR_AUTH_MALFORMED', 'the token is not a signed JWT (three base64url parts)');
  let protectedHeader: ProtectedHeaderParameters;
  try {
    protectedHeader = decodeProtectedHeader(token);
  } catch {
    return fail('OPS_ERR_AUTH_MALFORMED', 'the token header is not base64url JSON');
  }
  const { alg, kid } = protectedHeader;
  if (typeof alg !== 'string') return fail('OPS_ERR_AUTH_MALFORMED', 'the token header has no alg');
  const key = selectKey(keys, alg, kid);
  if ('failure' in key) return key;
  const leeway = Math.ceil(config.leeway / 1000);
  const { payload } = await jwtVerify(token, key.key, {
    algorithms: [key.alg],
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: leeway,
    currentDate: now,
  });
  // jose checks iat only with maxTokenAge; a token issued in the future is a clock or forgery problem.
  if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1000 + leeway) return fail('OPS_ERR_AUTH_INVALID', 'the token was issued in the future (iat)', { claim: 'iat' });
  if (typeof payload.sub !== 'string' || payload.sub === '') return fail('OPS_ERR_AUTH_INVALID', 'claim "sub" is empty', { claim: 'sub' });
  const scopes = scopesFromClaims(payload as { scope?: unknown; scp?: unknown });
  if (scopes === undefined) return fail('OPS_ERR_AUTH_INVALID', 'claim "scope" must be a string, "scp" an array of strings', { claim: 'scope' });
  return { ok: true, identity: { subject: payload.sub, scopes, expiresAt: new Date((payload.exp ?? 0) * 1000), claims: payload } };
}

/** The one key and algorithm a token may use: the secret with HS256, or the JWKS key its kid names with that key's alg. */
function selectKey(keys: VerificationKeys, alg: string, kid: string | undefined): { key: Uint8Array | CryptoKey; alg: string } | { ok: false; failure: AuthFailure } {
  const refuse = (message: string): { ok: false; failure: AuthFailure } => ({ ok: false, failure: { code: 'OPS_ERR_AUTH_INVALID', message, details: { alg, kid } } });
  if (keys.kind === 'secret') {
    if (alg !== 'HS256') return refuse(`algorithm ${alg} is not accepted: this server verifies HS256 tokens`);
    return { key: keys.secret, alg };
  }
  let entry = kid === undefined ? undefined : keys.keys.get(kid);
  if (kid === undefined) {
    if (keys.keys.size !== 1) return refuse('the token has no kid and the JWKS holds several keys');
    entry = [...keys.keys.values()][0];
  }
  if (entry === undefined) return refuse(`unknown key id "${String(kid)}"`);
  if (alg !== entry.alg) return refuse(`algorithm ${alg} is not accepted for key "${entry.kid}" (it is pinned to ${entry.alg})`);
  return { key: entry.key, alg: entry.alg };
}

/** Maps what jose throws to a failure; anything unexpected is still an invalid token, never a server error. */
function rejected(err: unknown): VerifyResult {
  if (err instanceof errors.JWTExpired) return fail('OPS_ERR_AUTH_EXPIRED', 'the token has expired', { claim: 'exp' });
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === 'missing') return fail('OPS_ERR_AUTH_INVALID', `claim "${claim}" is missing`, { claim });
    if (claim === 'nbf') return fail('OPS_ERR_AUTH_INVALID', 'the token is not valid yet (nbf)', { claim });
    return fail('OPS_ERR_AUTH_INVALID', `claim "${claim}" is not accepted`, { claim });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail('OPS_ERR_AUTH_INVALID', 'the signature does not verify');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail('OPS_ERR_AUTH_MALFORMED', 'the token is not a valid JWT');
  return fail('OPS_ERR_AUTH_INVALID', 'the token was rejected', { reason: err instanceof Error ? err.message : String(err) });
}

export interface MintOptions {
  subject: string;
  scopes: readonly Scope[];
  /** Lifetime in milliseconds (rounded up to whole seconds). */
  ttl: number;
  /** Default: the config's issuer. */
  issuer?: string | undefined;
  /** Default: the config's audience. */
  audience?: string | undefined;
  /** Issue time (tests); default now. */
  now?: Date;
}

export interface MintedToken {
  token: string;
  subject: string;
  scopes: Scope[];
  /** The token's jti. */
  id: string;
  issuedAt: Date;
  expiresAt: Date;
}

/**
 * Signs a token with the configured secret or private key: `sub`, `scope` (space-separated),
 * a random `jti`, `iat` = `nbf` = now, `exp` = now + ttl, and `iss`/`aud` when given or configured.
 * @example
 *   const { token } = await mintToken({ subject: 'alice', scopes: ['ops:read'], ttl: 3_600_000 }, config.auth);
 */
export async function mintToken(options: MintOptions, config: AuthConfig): Promise<MintedToken> {
  const signing = await loadSigningKey(config);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expires = issuedAt + Math.max(1, Math.ceil(options.ttl / 1000));
  const id = randomUUID();
  const scopes = [...new Set(options.scopes)];
  const jwt = new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: signing.alg, typ: 'JWT', ...(signing.kid === undefined ? {} : { kid: signing.kid }) })
    .setSubject(options.subject)
    .setJti(id)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(expires);
  const issuer = options.issuer ?? config.issuer;
  const audience = options.audience ?? config.audience;
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  const token = await jwt.sign(signing.key);
  return { token, subject: options.subject, scopes, id, issuedAt: new Date(issuedAt * 1000), expiresAt: new Date(expires * 1000) };
}
