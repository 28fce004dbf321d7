// How an agent applies a pushed config document: the ConfigApplier contract, and the default one
// that validates the body with the tool's own schema and writes it atomically to
// <data_dir>/pushed/<kind>/<name>.json (an invalid one changes nothing and says which key is wrong).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { validate } from '../core/config.ts';
import { errnoCode, isOpsError } from '../core/errors.ts';
import { configKindSchema, resourceName, type ConfigKind } from './records.ts';

/** A pushed config document, as the link delivers it. */
export interface PushedDoc {
  name: string;
  kind: ConfigKind;
  revision: number;
  body: unknown;
}

export type ApplyResult = { ok: true } | { ok: false; error: string };

/** What the agent runs for each config pushed to it (the LinkClient calls one at a time, in order). */
export interface ConfigApplier {
  /** Validates and applies a document; on `ok: false` whatever ran before keeps running. Never rejects. */
  apply(doc: PushedDoc): Promise<ApplyResult>;
  /** Stops running a document (deleted, or no longer targeting this node). */
  remove(name: string, kind: ConfigKind): Promise<void>;
  /** What was applied before this process started, for hello's `applied` (so it is not sent again). */
  applied?(): Promise<Record<string, { kind: ConfigKind; revision: number }>>;
}

/** Each kind's schema, imported only when a document of that kind arrives. */
export const pushedSchemas = {
  probe: async () => (await import('../probe/service-config.ts')).serviceConfigSchema,
  ship: async () => (await import('../ship/config.ts')).shipConfigSchema,
  agent: async () => (await import('../agent/config.ts')).agentConfigSchema,
} satisfies Record<ConfigKind, () => Promise<z.ZodType>>;

/**
 * Validates a document's body with its kind's schema: `{ ok: false, error }` names the key and says
 * what was expected, as OPS_ERR_CONFIG_INVALID messages do (`pushed probe config "web": key "targets.0.interval": ...`).
 */
export async function validatePushed(doc: Pick<PushedDoc, 'name' | 'kind' | 'body'>): Promise<ApplyResult> {
  const schema = await pushedSchemas[doc.kind]();
  try {
    validate(schema, doc.body, { file: `pushed ${doc.kind} config "${doc.name}"` });
    return { ok: true };
  } catch (err) {
    if (isOpsError(err, 'OPS_ERR_CONFIG_INVALID')) return { ok: false, error: err.message };
    throw err;
  }
}

export interface FileApplierOptions {
  /** The agent's data directory; documents go under `<dataDir>/pushed/`. */
  dataDir: string;
  log: Logger;
  /** Runs after a document was written (the host reloads the matching service from its file). */
  onApplied?(kind: ConfigKind, name: string, file: string): Promise<void> | void;
  /** Runs after a document's file was removed. */
  onRemoved?(kind: ConfigKind, name: string): Promise<void> | void;
}

const appliedStateSchema = z.record(resourceName, z.object({ kind: configKindSchema, revision: z.int().positive() }));
type AppliedState = Record<string, { kind: ConfigKind; revision: number }>;

/**
 * The default applier: validated documents as files, plus `pushed/applied.json` (name → kind and
 * revision) so a restarted agent does not have everything sent again.
 * @example new LinkClient({ ..., apply: new FileApplier({ dataDir: '/var/lib/opsctl/agent', log }) })
 */
export class FileApplier implements ConfigApplier {
  readonly #options: FileApplierOptions;
  readonly #root: string;
  #state: AppliedState | undefined;

  constructor(options: FileApplierOptions) {
    this.#options = options;
    this.#root = join(options.dataDir, 'pushed');
  }

  /** Where a document of `kind` named `name` is written. */
  file(kind: ConfigKind, name: string): string {
    return join(this.#root, kind, `${name}.json`);
  }

  applied(): Promise<AppliedState> {
    return Promise.resolve({ ...this.#load() });
  }

  async apply(doc: PushedDoc): Promise<ApplyResult> {
    let checked: ApplyResult;
    try {
      checked = await validatePushed(doc);
    } catch (err) {
      checked = { ok: false, error: `validation failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (!checked.ok) {
      this.#options.log.warn({ config: doc.name, kind: doc.kind, revision: doc.revision, error: checked.error }, 'pushed config invalid, nothing changed');
      return checked;
    }
    const file = this.file(doc.kind, doc.name);
    const previous = readIfExists(file);
    try {
      writeAtomic(file, `${JSON.stringify(doc.body, null, 2)}\n`);
    } catch (err) {
      return { ok: false, error: `cannot write ${file}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}` };
    }
    try {
      await this.#options.onApplied?.(doc.kind, doc.name, file);
    } catch (err) {
      // The host could not run it: put the old document back, so the file is what runs.
      if (previous === undefined) rmSync(file, { force: true });
      else writeAtomic(file, previous);
      return { ok: false, error: `applying it failed, the previous one is kept: ${err instanceof Error ? err.message : String(err)}` };
    }
    const state = this.#load();
    const before = state[doc.name];
    if (before !== undefined && before.kind !== doc.kind) rmSync(this.file(before.kind, doc.name), { force: true });
    state[doc.name] = { kind: doc.kind, revision: doc.revision };
    this.#save(state);
    this.#options.log.info({ config: doc.name, kind: doc.kind, revision: doc.revision, file }, 'pushed config applied');
    return { ok: true };
  }

  async remove(name: string, kind: ConfigKind): Promise<void> {
    rmSync(this.file(kind, name), { force: true });
    const state = this.#load();
    if (Object.hasOwn(state, name)) {
      delete state[name];
      this.#save(state);
    }
    await this.#options.onRemoved?.(kind, name);
    this.#options.log.info({ config: name, kind }, 'pushed config removed');
  }

  #load(): AppliedState {
    if (this.#state) return this.#state;
    let state: AppliedState = {};
    try {
      state = appliedStateSchema.parse(JSON.parse(readFileSync(join(this.#root, 'applied.json'), 'utf8')));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.#options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pushed/applied.json unreadable, starting afresh');
    }
    this.#state = state;
    return state;
  }

  #save(state: AppliedState): void {
    writeAtomic(join(this.#root, 'applied.json'), `${JSON.stringify(state)}\n`);
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a file by renaming a complete temporary one over it: readers see the old or the new, never half. */
function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
