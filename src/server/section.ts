// The `[server]` section: `opsctl server` (the control plane) in `opsctl up`, or alone with
// `opsctl server --config FILE` (the same file format: only [server] and the process keys are used).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { errnoCode, OpsError } from '../core/errors.ts';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { duration, listenAddress, size } from '../core/config.ts';
import { rateLimitSchema, serverAuthSchema } from './config.ts';

export const serverSection = z.strictObject({
  /** Run the control plane under `opsctl up`. */
  enabled: z.boolean().default(false),
  /** Its own address when run alone (`opsctl server`); under `opsctl up` it serves on up's `listen`. */
  listen: listenAddress().prefault('127.0.0.1:9120'),
  /** The store's SQLite file (relative), the default signing key, pushed state. Relative to the config file. */
  data_dir: z.string().min(1).default('/var/lib/opsctl/server'),
  /** `sqlite:PATH` (relative to data_dir) or `etcd://host:2379,host:2379` (`etcds://` for TLS). */
  store: z.string().min(1).default('sqlite:store.db'),
  /** etcd client TLS and user (files are read at start). */
  store_tls: z.strictObject({ ca_file: z.string().optional(), cert_file: z.string().optional(), key_file: z.string().optional() }).prefault({}),
  store_username: z.string().min(1).optional(),
  store_password_file: z.string().min(1).optional(),
  /** This replica's name in link keys and node records; default the host name and pid. */
  replica: z.string().min(1).optional(),
  /** TLS for the listener when run alone (PEM files). */
  tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).optional(),
  /** The key that signs and verifies API tokens (default: an HS256 secret created under data_dir, mode 0600). */
  auth: serverAuthSchema.prefault({}),
  /** Token buckets per subject (per client address before authentication), open connections per address. Per replica. */
  rate_limit: rateLimitSchema.prefault({}),
  limits: z.strictObject({
    /** Largest API request body. */
    body_bytes: size().prefault('1MiB'),
    /** Largest agent link message. */
    message_bytes: size().prefault('1MiB'),
    /** Most agent links from one client address. */
    links_per_client: z.int().positive().default(50),
  }).prefault({}),
  audit: z.strictObject({
    /** How long audit records are kept. */
    retention: duration().prefault('30d'),
  }).prefault({}),
  /** How often agents send a heartbeat; a link is lost after three missed. */
  heartbeat: duration().prefault('10s'),
});

export type ServerSection = z.output<typeof serverSection>;

/** What the server service runs with: the section, paths resolved, and where it listens. */
export interface ServerServiceConfig extends ServerSection {
  replica: string;
  /** The address clients reach it at (for the local discovery file). */
  url?: string | undefined;
}

/** The service's config when the section enables it (or always, for `opsctl server`). */
export function serverFromSection(section: ServerSection, base: { configDir: string }, force = false): ServerServiceConfig | undefined {
  if (!section.enabled && !force) return undefined;
  const at = (p: string | undefined): string | undefined => (p === undefined || isAbsolute(p) ? p : resolve(base.configDir, p));
  return {
    ...section,
    data_dir: at(section.data_dir) as string,
    store_tls: { ca_file: at(section.store_tls.ca_file), cert_file: at(section.store_tls.cert_file), key_file: at(section.store_tls.key_file) },
    store_password_file: at(section.store_password_file),
    tls: section.tls && { cert_file: at(section.tls.cert_file) as string, key_file: at(section.tls.key_file) as string },
    auth: { ...section.auth, secret_file: at(section.auth.secret_file), jwks_file: at(section.auth.jwks_file), private_key_file: at(section.auth.private_key_file) },
    replica: section.replica ?? `${hostname()}-${process.pid}`,
  };
}

/** The listener's TLS key and certificate (OPS_ERR_CONFIG_READ naming the file when unreadable). */
export function readPemPair(tls: { cert_file: string; key_file: string }): { key: Buffer; cert: Buffer } {
  const read = (file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new OpsError('OPS_ERR_CONFIG_READ', `[server.tls] ${file}: cannot read (${errnoCode(err) ?? String(err)})`, { details: { file }, cause: err });
    }
  };
  return { key: read(tls.key_file), cert: read(tls.cert_file) };
}
