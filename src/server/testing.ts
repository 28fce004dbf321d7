// Test helpers for the auth layer: throwaway keys (HS256 secret, ES256/RS256/EdDSA JWKS) and a fastify app behind authPlugin.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { authPlugin, type AuthHookOptions } from './auth-hook.ts';
import { serverAuthSchema, type AuthConfig } from './config.ts';

/** A temporary directory removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a file with a mode (set after writing, so the umask does not change it). */
export function writeKeyFile(path: string, content: string | Buffer, mode = 0o600): string {
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** An auth config with defaults, as the schema would produce it. */
export function authConfig(keys: Record<string, unknown>): AuthConfig {
  return serverAuthSchema.parse(keys);
}

/** A random 48-byte HS256 secret file (base64, with a newline). */
export function secretFile(dir: string, mode = 0o600): string {
  return writeKeyFile(join(dir, `secret-${randomBytes(4).toString('hex')}`), `${randomBytes(48).toString('base64')}\n`, mode);
}

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  /** The private key as a PEM file (mode 0600). */
  privateFile: string;
  /** The public key in SPKI PEM (what an HS/RS confusion attack uses as the HMAC secret). */
  publicPem: string;
}

export interface TestJwks {
  jwksFile: string;
  es256: TestKey;
  rs256: TestKey;
  eddsa: TestKey;
}

/** Three key pairs and a jwks.json of their public halves, each pinned to its alg. */
export function testJwks(dir: string): TestJwks {
  const make = (kid: string, alg: string, pair: { publicKey: KeyObject; privateKey: KeyObject }): TestKey => ({
    kid, alg, privateKey: pair.privateKey,
    privateFile: writeKeyFile(join(dir, `${kid}.pem`), pair.privateKey.export({ format: 'pem', type: 'pkcs8' })),
    publicPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  });
  const es256 = make('ec-1', 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const rs256 = make('rsa-1', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const eddsa = make('ed-1', 'EdDSA', generateKeyPairSync('ed25519'));
  const keys = [es256, rs256, eddsa].map((k) => ({ ...k.privateKey.export({ format: 'jwk' }), d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined, kid: k.kid, alg: k.alg, use: 'sig' }));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys }));
  return { jwksFile, es256, rs256, eddsa };
}

/**
 * A fastify app with authPlugin and one route per scope: GET /read (ops:read), POST /write
 * (ops:write), GET /admin (ops:admin), GET /agent (agent), GET /public; each answers the identity.
 * GET /healthz is outside it.
 */
export async function testApp(t: TestContext, options: AuthHookOptions): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(async (api) => {
    await api.register(authPlugin, options);
    const answer = (request: { identity?: unknown }): unknown => ({ identity: request.identity ?? null });
    api.get('/read', { config: { scope: 'ops:read' } }, answer);
    api.post('/write', { config: { scope: 'ops:write' } }, answer);
    api.get('/admin', { config: { scope: 'ops:admin' } }, answer);
    api.get('/agent', { config: { scope: 'agent' } }, answer);
    api.get('/public', { config: { scope: 'public' } }, answer);
  });
  app.get('/healthz', () => 'ok');
  t.after(() => app.close());
  await app.ready();
  return app;
}
