// TLS client settings of the network sinks: the keys they share and the CA file read at start.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { OpsError, errnoCode } from '../../core/errors.ts';

/** Keys of every sink `tls` table. */
export const tlsKeys = {
  /** PEM file of the CAs to trust instead of the system ones (relative to the config file). */
  ca_file: z.string().min(1).optional(),
  /** Verify the server's certificate and name; false accepts any certificate (tests, private CAs without a file). */
  verify: z.boolean().default(true),
};

/** What node:tls and node:https agents take. */
export interface TlsClientSettings {
  ca: string | undefined;
  rejectUnauthorized: boolean;
}

/**
 * Reads the CA file once, at start: a file that cannot be read is the user's to fix.
 * @example tlsClientSettings({ ca_file: 'ca.pem', verify: true }, ctx.configDir, 'tls.ca_file')
 */
export function tlsClientSettings(config: { ca_file?: string | undefined; verify: boolean }, configDir: string, key: string): TlsClientSettings {
  let ca: string | undefined;
  if (config.ca_file !== undefined) {
    const file = resolve(configDir, config.ca_file);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (err) {
      throw new OpsError('OPS_ERR_CONFIG_INVALID', `${key}: cannot read ${file} (${errnoCode(err) ?? String(err)})`, { details: { key, file }, cause: err });
    }
  }
  return { ca, rejectUnauthorized: config.verify };
}
