// The SQLite store's file: pragmas, tables and the row shapes. The log is the history (one row per
// key written, `revision` shared by a transaction's rows); `kv` is the current state derived from
// it, written in the same transaction; `meta` holds the revision and the compact revision.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { OpsError } from '../../core/errors.ts';
import { bytesKey } from '../request.ts';
import type { KV } from '../types.ts';

const schema = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compact_revision', 0);
CREATE TABLE IF NOT EXISTS log (
  revision INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key BLOB NOT NULL,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (revision, sub)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_key ON log (key, revision);
CREATE TABLE IF NOT EXISTS kv (
  key BLOB PRIMARY KEY,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_lease ON kv (lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL);
`;

export interface KvRow {
  key: Uint8Array;
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease: number;
}

export interface LogRow {
  revision: number;
  sub: number;
  key: Uint8Array;
  value: string;
  create_revision: number;
  prev_revision: number;
  version: number;
  lease: number;
  deleted: number;
}

export function kvOf(row: KvRow): KV {
  const kv: KV = { key: bytesKey(row.key), value: row.value, createRevision: row.create_revision, modRevision: row.mod_revision, version: row.version };
  if (row.lease !== 0) kv.lease = String(row.lease);
  return kv;
}

/**
 * Opens (creating) the store file in WAL mode with an exclusive lock held until close: SQLite
 * itself keeps a second process, or a second open in this one, out (OPS_ERR_STORE_LOCKED).
 * synchronous=FULL: a commit is on disk before txn() resolves.
 */
export function openDatabase(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    // The first write takes the exclusive lock; from here on no one else can read or write.
    db.exec(`BEGIN IMMEDIATE; ${schema} COMMIT;`);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message)) {
      throw new OpsError('OPS_ERR_STORE_LOCKED', `${path}: the store file is in use by another process (one process owns a SQLite store)`, { details: { path }, cause: err });
    }
    throw new OpsError('OPS_ERR_STORE_OPEN', `${path}: cannot open the store file: ${err instanceof Error ? err.message : String(err)}`, { details: { path }, cause: err });
  }
}
