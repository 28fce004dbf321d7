// The embedded default key: with no key configured, a random HS256 secret under data_dir, made once, mode 0600.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OpsError, errnoCode } from '../core/errors.ts';
import { serverAuthSchema, type AuthConfig } from './config.ts';
import { readSecretFile } from './keys.ts';

/** The default secret's file name under data_dir. */
export const defaultSecretName = 'jwt-hs256.secret';

export interface DefaultKeyOptions {
  /** Create the secret when it does not exist (the server does; `token create` only reads it). Default true. */
  create?: boolean;
}

/**
 * The auth config to use: `config` itself when it names a key, else one whose secret_file is
 * `<dataDir>/jwt-hs256.secret`, created on first start (64 base64url characters, mode 0600) and
 * reused afterwards. Like ssh with a private key, an existing secret that group or others may
 * read is refused (OPS_ERR_AUTH_KEY), not used: anyone who could read it could mint admin tokens.
 */
export async function ensureDefaultKey(dataDir: string, config: AuthConfig = serverAuthSchema.parse({}), options: DefaultKeyOptions = {}): Promise<AuthConfig> {
  if (config.secret_file !== undefined || config.jwks_file !== undefined) return config;
  const file = join(dataDir, defaultSecretName);
  const use = async (): Promise<AuthConfig> => {
    await readSecretFile(file, 0o077);
    return { ...config, secret_file: file };
  };
  try {
    return await use();
  } catch (err) {
    if (!(err instanceof OpsError && errnoCode(err.cause) === 'ENOENT')) throw err;
    if (options.create === false) {
      throw new OpsError('OPS_ERR_AUTH_KEY', `no token key configured and no default secret at ${file}: set [server.auth] secret_file or jwks_file, give --secret-file or --private-key-file, or start opsctl server once to create it`, { details: { file } });
    }
  }
  await createSecret(dataDir, file);
  return use();
}

/** Writes the secret to a temporary file, then links it into place: a crash leaves no half-written secret, and of two racing starts one secret wins. */
async function createSecret(dataDir: string, file: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(48).toString('base64url')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, file).catch((err: unknown) => { if (errnoCode(err) !== 'EEXIST') throw err; });
  } catch (err) {
    throw new OpsError('OPS_ERR_AUTH_KEY', `${file}: cannot create the default token secret (${errnoCode(err) ?? String(err)})`, { details: { file }, cause: err });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
