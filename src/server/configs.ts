// Config documents: what `PUT /api/v1/configs/NAME` stores under /opsctl/config/<name> and the
// replicas push to the agents whose labels match. A body is validated with the schema of the tool
// it configures (the same schema its config file has), so a bad document is a 422 naming the key.
import { z } from 'zod';
import { isOpsError, OpsError } from '../core/errors.ts';
import { validate } from '../core/config.ts';
import type { KV, Store } from '../store/index.ts';
import { configRecordSchema, prefixes, type ConfigRecord } from '../link/records.ts';

/** The kinds of documents, each validated with its tool's config schema (imported when needed). */
export const configKinds = {
  /** A probes.toml as JSON: modules, targets, alerts. */
  probe: async () => (await import('../probe/service-config.ts')).serviceConfigSchema,
  /** A ship.toml as JSON: sources, transforms, sinks. */
  ship: async () => (await import('../ship/config.ts')).shipConfigSchema,
  /** The agent's settings, as `[agent]` of opsctl up. */
  agent: async () => (await import('../agent/config.ts')).agentConfigSchema,
};

export type ConfigKind = keyof typeof configKinds;

/** DNS-label-like names, as Kubernetes object names: they are store keys and URL path segments. */
export const configName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'names are lowercase letters, digits, "-" and ".", starting and ending with a letter or digit (at most 253)');

/** What a client sends to PUT /api/v1/configs/NAME. */
export const configWriteSchema = z.strictObject({
  kind: z.enum(Object.keys(configKinds) as [ConfigKind, ...ConfigKind[]]),
  /** Label selector of the nodes it applies to ("" or absent: every node). */
  selector: z.string().max(4096).default(''),
  description: z.string().max(4096).optional(),
  /** The document, as the tool's TOML file would be, in JSON. */
  body: z.record(z.string(), z.unknown()),
  /** Write only if the stored document is at this revision (0: only if it does not exist). */
  revision: z.int().min(0).optional(),
});
export type ConfigWrite = z.output<typeof configWriteSchema>;

export { configRecordSchema, type ConfigRecord } from '../link/records.ts';

/** A document as the API returns it: the record with its revision. */
export type ConfigDocument = ConfigRecord & { revision: number; createRevision: number };

export const configPrefix = prefixes.config;

export function configKey(name: string): string {
  return `${configPrefix}${name}`;
}

/** A stored document from its key-value, or undefined when the value is not one (logged by callers). */
export function decodeConfig(kv: KV): ConfigDocument | undefined {
  try {
    const parsed = configRecordSchema.safeParse(JSON.parse(kv.value));
    return parsed.success ? { ...parsed.data, revision: kv.modRevision, createRevision: kv.createRevision } : undefined;
  } catch {
    return undefined;
  }
}

/** Validates a document's body with its kind's schema: OPS_ERR_API_INVALID naming `body.<key>` when it does not fit. */
export async function validateBody(kind: ConfigKind, body: unknown): Promise<void> {
  const schema = await configKinds[kind]();
  try {
    validate(schema, body);
  } catch (err) {
    if (!isOpsError(err, 'OPS_ERR_CONFIG_INVALID')) throw err;
    const problems = (err.details.problems as Array<{ key?: string; text: string }> | undefined) ?? [];
    const key = typeof err.details.key === 'string' ? `body.${err.details.key}` : 'body';
    throw new OpsError('OPS_ERR_API_INVALID', `${kind} document: ${err.message}`, {
      details: { key, issues: problems.map((p) => ({ key: p.key === undefined ? 'body' : `body.${p.key}`, message: p.text })) },
    });
  }
}

/**
 * Stores a document: created, or replaced (only at `revision` when given). Resolves to the stored
 * document and whether it was created; OPS_ERR_API_CONFLICT when `revision` is not the current one.
 */
export async function putConfig(store: Store, name: string, write: ConfigWrite, author: string, checkSelector: (text: string) => void): Promise<{ doc: ConfigDocument; created: boolean }> {
  checkSelector(write.selector);
  await validateBody(write.kind, write.body);
  const record: ConfigRecord = {
    name, kind: write.kind, selector: write.selector, body: write.body, author, updatedAt: new Date().toISOString(),
    ...(write.description !== undefined && { description: write.description }),
  };
  const key = configKey(name);
  const value = JSON.stringify(record);
  const compare = write.revision === undefined ? [] : [{ key, target: 'mod' as const, op: '=' as const, value: write.revision }];
  const res = await store.txn({ compare, success: [{ op: 'get', key }, { op: 'put', key, value }, { op: 'get', key }], failure: [{ op: 'get', key }] });
  if (!res.succeeded) {
    const current = res.results[0]?.op === 'get' ? res.results[0].kvs[0] : undefined;
    throw new OpsError('OPS_ERR_API_CONFLICT', `config "${name}" is at revision ${current?.modRevision ?? 0}, not ${String(write.revision)}: read it again and retry`, {
      details: { name, revision: current?.modRevision ?? 0, expected: write.revision },
    });
  }
  const before = res.results[0]?.op === 'get' ? res.results[0].kvs[0] : undefined;
  const after = res.results[2]?.op === 'get' ? res.results[2].kvs[0] : undefined;
  if (!after) throw new OpsError('OPS_ERR_INTERNAL', `config "${name}" not found right after it was written`);
  return { doc: { ...record, revision: after.modRevision, createRevision: after.createRevision }, created: before === undefined };
}

/** Deletes a document (only at `revision` when given); OPS_ERR_API_NOT_FOUND or OPS_ERR_API_CONFLICT. */
export async function deleteConfig(store: Store, name: string, revision: number | undefined): Promise<number> {
  const key = configKey(name);
  const compare = [{ key, target: 'create' as const, op: '>' as const, value: 0 }, ...(revision === undefined ? [] : [{ key, target: 'mod' as const, op: '=' as const, value: revision }])];
  const res = await store.txn({ compare, success: [{ op: 'delete', key }], failure: [{ op: 'get', key }] });
  if (res.succeeded) return res.revision;
  const current = res.results[0]?.op === 'get' ? res.results[0].kvs[0] : undefined;
  if (!current) throw new OpsError('OPS_ERR_API_NOT_FOUND', `no config "${name}"`, { details: { kind: 'config', name } });
  throw new OpsError('OPS_ERR_API_CONFLICT', `config "${name}" is at revision ${current.modRevision}, not ${String(revision)}`, { details: { name, revision: current.modRevision, expected: revision } });
}
