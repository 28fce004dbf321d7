// Token keys from files: the HS256 secret, the JWKS of public keys (alg pinned per kid), the private signing key.
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { OpsError, errnoCode } from '../core/errors.ts';
import type { AuthConfig } from './config.ts';

/** Shorter HS256 secrets are refused (RFC 7518 §3.2: a key at least as long as the hash, 256 bits). */
export const minSecretBytes = 32;

/** Algorithms a JWKS key may pin. HS* is not among them: a JWKS here holds public keys only. */
export const asymmetricAlgorithms = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;

export interface PublicKeyEntry {
  kid: string;
  alg: string;
  key: CryptoKey;
  jwk: JWK;
}

/** What verifies tokens: one HS256 secret, or public keys by kid, each with its one algorithm. */
export type VerificationKeys =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'jwks'; keys: ReadonlyMap<string, PublicKeyEntry> };

/** What signs tokens: the key, its algorithm, and the kid to put in the header. */
export interface SigningKey {
  alg: string;
  kid?: string | undefined;
  key: Uint8Array | KeyObject;
}

const keyError = (message: string, details: Record<string, unknown>, cause?: unknown): OpsError =>
  new OpsError('OPS_ERR_AUTH_KEY', message, { details, cause });

async function readKeyFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw keyError(`${file}: cannot read the ${what} (${errnoCode(err) ?? String(err)})`, { file }, err);
  }
}

/**
 * Refuses a key file others may read. `mask` 0o077 is ssh's rule (no group or other bits), used
 * for the secret opsctl creates itself; 0o007 (no other bits) for files the operator provides,
 * so group-readable Kubernetes secret mounts (fsGroup) still work.
 */
export async function checkPrivateMode(file: string, mask: 0o077 | 0o007): Promise<void> {
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    throw keyError(`${file}: cannot read the key file (${errnoCode(err) ?? String(err)})`, { file }, err);
  }
  if ((mode & mask) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    throw keyError(`${file}: permissions ${octal} are too open: a signing key must not be readable by ${mask === 0o077 ? 'group or others' : 'others'} (chmod 600 ${file})`, { file, mode: octal });
  }
}

/** The HS256 secret in a file: its bytes without a trailing newline, at least 32 of them. */
export async function readSecretFile(file: string, mask: 0o077 | 0o007 = 0o007): Promise<Uint8Array> {
  await checkPrivateMode(file, mask);
  const raw = await readKeyFile(file, 'secret');
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  if (end < minSecretBytes) {
    throw keyError(`${file}: the HS256 secret is ${end} bytes; at least ${minSecretBytes} are needed (e.g. openssl rand -base64 48 > ${file})`, { file, bytes: end });
  }
  return new Uint8Array(raw.subarray(0, end));
}

/** Public keys from a JWKS file; each key must name its `kid` and `alg`, and hold no private part. */
export async function readJwksFile(file: string): Promise<Map<string, PublicKeyEntry>> {
  let doc: unknown;
  try {
    doc = JSON.parse((await readKeyFile(file, 'JWKS')).toString('utf8'));
  } catch (err) {
    if (err instanceof OpsError) throw err;
    throw keyError(`${file}: the JWKS is not JSON (${(err as Error).message})`, { file }, err);
  }
  const list = typeof doc === 'object' && doc !== null && 'keys' in doc ? doc.keys : undefined;
  if (!Array.isArray(list) || list.length === 0) throw keyError(`${file}: expected a JWKS, {"keys": [ ... ]}, with at least one key`, { file });
  const keys = new Map<string, PublicKeyEntry>();
  for (const [index, item] of list.entries()) {
    const jwk = item as JWK;
    const where = `${file}: key ${index}${typeof jwk.kid === 'string' ? ` (kid "${jwk.kid}")` : ''}`;
    const refuse = (why: string): OpsError => keyError(`${where}: ${why}`, { file, index, kid: jwk.kid });
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw refuse('not a JWK object');
    if (typeof jwk.kid !== 'string' || jwk.kid === '') throw refuse('no "kid": every key needs one, tokens name their key by it');
    if (keys.has(jwk.kid)) throw refuse('the same "kid" appears twice');
    if (typeof jwk.alg !== 'string') throw refuse('no "alg": each key must pin its algorithm (ES256, RS256, EdDSA...)');
    if (!(asymmetricAlgorithms as readonly string[]).includes(jwk.alg)) throw refuse(`"alg" ${jwk.alg} is not accepted here; use one of ${asymmetricAlgorithms.join(', ')}`);
    if (jwk.d !== undefined || jwk.k !== undefined) throw refuse('holds private key material: the JWKS is for public keys (keep the private key in private_key_file)');
    if (jwk.use !== undefined && jwk.use !== 'sig') throw refuse(`"use" is "${jwk.use}", not "sig"`);
    let key: CryptoKey;
    try {
      key = await importJWK(jwk, jwk.alg) as CryptoKey;
    } catch (err) {
      throw keyError(`${where}: not a usable ${jwk.alg} public key (${(err as Error).message})`, { file, index, kid: jwk.kid }, err);
    }
    keys.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, key, jwk });
  }
  return keys;
}

/** The keys that verify tokens under this config. */
export async function loadVerificationKeys(config: AuthConfig): Promise<VerificationKeys> {
  if (config.secret_file !== undefined) return { kind: 'secret', secret: await readSecretFile(config.secret_file) };
  if (config.jwks_file !== undefined) return { kind: 'jwks', keys: await readJwksFile(config.jwks_file) };
  throw keyError('no token key configured: set [server.auth] secret_file or jwks_file (opsctl server creates a default secret under data_dir)', {});
}

/**
 * The key that signs tokens: the HS256 secret, or private_key_file (PEM or JWK). With a JWKS, the
 * private key's public half must be in it, and its kid and alg come from there (so every minted
 * token verifies); without one, alg follows the key type and kid is the private JWK's or the
 * RFC 7638 thumbprint of the public key.
 */
export async function loadSigningKey(config: AuthConfig): Promise<SigningKey> {
  if (config.secret_file !== undefined) return { alg: 'HS256', key: await readSecretFile(config.secret_file) };
  const file = config.private_key_file;
  if (file === undefined) {
    const why = config.jwks_file === undefined ? 'no token key configured' : 'jwks_file verifies tokens but cannot sign them';
    throw keyError(`${why}: give a secret_file (HS256) or a private_key_file (PEM or JWK)`, {});
  }
  await checkPrivateMode(file, 0o007);
  const text = (await readKeyFile(file, 'private key')).toString('utf8').trim();
  let own: JsonWebKey | undefined;
  let key: KeyObject;
  try {
    own = text.startsWith('{') ? JSON.parse(text) as JsonWebKey : undefined;
    key = own === undefined ? createPrivateKey(text) : createPrivateKey({ key: own, format: 'jwk' });
  } catch (err) {
    throw keyError(`${file}: not a private key in PEM or JWK form (${(err as Error).message})`, { file }, err);
  }
  const pub = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  if (config.jwks_file !== undefined) {
    const match = [...(await readJwksFile(config.jwks_file)).values()].find((e) => samePublicKey(e.jwk, pub));
    if (!match) throw keyError(`${file}: its public key is in none of the keys of ${config.jwks_file}, so tokens it signs would not verify`, { file, jwks_file: config.jwks_file });
    return { alg: match.alg, kid: match.kid, key };
  }
  const alg = typeof own?.alg === 'string' ? own.alg : algorithmFor(key);
  if (alg === undefined) throw keyError(`${file}: cannot tell the algorithm for a ${key.asymmetricKeyType ?? 'unknown'} key; give it as a JWK with "alg"`, { file });
  const kid = typeof own?.kid === 'string' ? own.kid : await calculateJwkThumbprint(pub);
  return { alg, kid, key };
}

function samePublicKey(a: JWK, b: JWK): boolean {
  if (a.kty !== b.kty) return false;
  if (a.kty === 'RSA') return a.n === b.n && a.e === b.e;
  return a.crv === b.crv && a.x === b.x && a.y === b.y;
}

function algorithmFor(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec') return { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[key.asymmetricKeyDetails?.namedCurve ?? ''];
  return undefined;
}
