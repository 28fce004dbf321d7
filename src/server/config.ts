// The [server.auth] and [server.rate_limit] sections, and just enough of [server] for `opsctl server token create`.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { duration, loadConfig, size } from '../core/config.ts';

/**
 * `[server.auth]`: the key that signs and verifies API tokens. One of `secret_file` (HS256) or
 * `jwks_file` (public keys, the algorithm pinned by each key's `alg`); neither means the embedded
 * default, a secret created under data_dir on first start (see ensureDefaultKey).
 */
export const serverAuthSchema = z.strictObject({
  /** HS256: a file holding the shared secret (at least 32 bytes; a trailing newline is not part of it). */
  secret_file: z.string().min(1).optional(),
  /** ES256 / RS256 / EdDSA...: a JWKS file ({"keys": [...]}) of public keys, each with `kid` and `alg`. */
  jwks_file: z.string().min(1).optional(),
  /** For minting only, with jwks_file: the private key (PEM or JWK) whose public half is in the JWKS. */
  private_key_file: z.string().min(1).optional(),
  /** Required `iss` of every token, and the `iss` minted tokens carry. */
  issuer: z.string().min(1).optional(),
  /** Required `aud` of every token, and the `aud` minted tokens carry. */
  audience: z.string().min(1).optional(),
  /** Clock skew allowed on `exp`, `nbf` and `iat`. */
  leeway: duration().prefault('30s'),
  /** Longer tokens are refused before they are parsed. */
  max_token_bytes: size().refine((n) => n >= 1024, 'expected at least 1KiB (a signed JWT with a few claims is several hundred bytes)').prefault('8KiB'),
}).refine((a) => a.secret_file === undefined || a.jwks_file === undefined, {
  message: 'give secret_file (HS256) or jwks_file (public keys), not both', path: ['jwks_file'],
}).refine((a) => a.private_key_file === undefined || a.jwks_file !== undefined, {
  message: 'private_key_file signs tokens the jwks_file keys verify: set jwks_file too (with secret_file, the secret signs)', path: ['private_key_file'],
});

export type AuthConfig = z.output<typeof serverAuthSchema>;

/** `[server.rate_limit]`: token buckets per subject (per client IP before auth), and open connections per IP. Per replica. */
export const rateLimitSchema = z.strictObject({
  /** Requests per second each subject or client IP may make on average. */
  rate: z.number().positive().default(100),
  /** Requests a client may make at once after being idle (the bucket's size). */
  burst: z.number().int().positive().default(200),
  /** Buckets kept; the least recently used one goes first. */
  max_keys: z.number().int().positive().default(100_000),
  /** Open connections (HTTP keep-alive and WebSocket) per client IP. */
  max_connections_per_client: z.number().int().positive().default(256),
});

export type RateLimitConfig = z.output<typeof rateLimitSchema>;

/**
 * The part of `[server]` this module owns. Keys of [server] it does not know are left for the
 * full server schema (not an error here), and other sections of the file are not read.
 */
export const serverConfigSchema = z.object({
  /** The embedded store and the default signing key live here. */
  data_dir: z.string().min(1).default('/var/lib/opsctl/server'),
  auth: serverAuthSchema.prefault({}),
  rate_limit: rateLimitSchema.prefault({}),
});

export type ServerConfig = z.output<typeof serverConfigSchema>;

const fileSchema = z.object({ server: serverConfigSchema.prefault({}) });

/**
 * Reads [server] from an opsctl TOML file (and OPSCTL_SERVER__* variables), with the key files
 * and data_dir resolved against the file's directory.
 */
export function loadServerConfig(file: string | undefined, env?: NodeJS.ProcessEnv): ServerConfig {
  const { server } = loadConfig({ schema: fileSchema, file, env });
  const base = file === undefined ? process.cwd() : dirname(resolve(file));
  const at = <T extends string | undefined>(path: T): T => (path === undefined || isAbsolute(path) ? path : resolve(base, path)) as T;
  const auth = server.auth;
  return {
    ...server,
    data_dir: at(server.data_dir),
    auth: { ...auth, secret_file: at(auth.secret_file), jwks_file: at(auth.jwks_file), private_key_file: at(auth.private_key_file) },
  };
}
