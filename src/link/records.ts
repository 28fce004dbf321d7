// The agent link's records in the store: nodes, links, config documents and rollouts. Keys and zod
// schemas, validated on read and on write; the server's API and list endpoints use them too.
import { z } from 'zod';
import { OpsError } from '../core/errors.ts';
import type { KV } from '../store/types.ts';
import { isLabelKey, isLabelValue, parseSelector } from './selector.ts';

/** Key prefixes (each ends in "/"). */
export const prefixes = {
  nodes: '/opsctl/nodes/',
  links: '/opsctl/links/',
  config: '/opsctl/config/',
  rollout: '/opsctl/rollout/',
} as const;

/** A node or config name: one key segment and a file name, so no "/" and no leading ".". */
export const resourceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, 'expected a name of letters, digits, ".", "_" and "-" (at most 253, starting with a letter or digit)');

export const labelsSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(key)} is not a label key (letters, digits, "-", "_", "." and an optional "prefix/"; at most 63)` });
    else if (!isLabelValue(value)) ctx.addIssue({ code: 'custom', path: [key], message: `${JSON.stringify(value)} is not a label value (empty, or at most 63 letters, digits, "-", "_", "." starting and ending alphanumeric)` });
  }
});

const isoTime = z.iso.datetime({ offset: true });

export const factsSchema = z.object({
  hostname: z.string(),
  /** /etc/os-release PRETTY_NAME, or the platform when absent. */
  os: z.string(),
  kernel: z.string(),
  arch: z.string(),
  cpus: z.int().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  agentVersion: z.string(),
});
export type NodeFacts = z.output<typeof factsSchema>;

/** `/opsctl/nodes/<name>`: persistent; written on hello and on disconnect (lastSeen). */
export const nodeRecordSchema = z.object({
  name: resourceName,
  labels: labelsSchema,
  facts: factsSchema,
  firstSeen: isoTime,
  lastSeen: isoTime,
  /** The replica that last held the node's link. */
  lastReplica: z.string(),
});
export type NodeRecord = z.output<typeof nodeRecordSchema>;

/** `/opsctl/links/<name>`: under the holding replica's lease; lastHeartbeat refreshed at most every 30 s. */
export const linkRecordSchema = z.object({
  node: resourceName,
  replica: z.string().min(1),
  connectedAt: isoTime,
  lastHeartbeat: isoTime,
  /** The agent's IP address as the server saw it. */
  address: z.string(),
});
export type LinkRecord = z.output<typeof linkRecordSchema>;

export const configKinds = ['probe', 'ship', 'agent'] as const;
export type ConfigKind = (typeof configKinds)[number];
export const configKindSchema = z.enum(configKinds);

/** `/opsctl/config/<name>`: written by the API; its revision is the key's modRevision. */
export const configRecordSchema = z.object({
  name: resourceName,
  kind: configKindSchema,
  /** A label selector; "" matches every node. */
  selector: z.string().superRefine((text, ctx) => {
    try {
      parseSelector(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message.split('\n')[0] ?? 'invalid selector' : String(err) });
    }
  }),
  /** The document as JSON, validated by the API with the kind's own schema (and again by the agent). */
  body: z.unknown(),
  author: z.string(),
  updatedAt: isoTime,
  description: z.string().optional(),
});
export type ConfigRecord = z.output<typeof configRecordSchema>;

/** `/opsctl/rollout/<config>/<node>`: the agent's ack, written by the replica holding its link. */
export const rolloutRecordSchema = z.object({
  config: resourceName,
  node: resourceName,
  revision: z.int().positive(),
  ok: z.boolean(),
  error: z.string().optional(),
  appliedAt: isoTime,
});
export type RolloutRecord = z.output<typeof rolloutRecordSchema>;

export const nodeKey = (name: string): string => `${prefixes.nodes}${name}`;
export const linkKey = (name: string): string => `${prefixes.links}${name}`;
export const configKey = (name: string): string => `${prefixes.config}${name}`;
export const rolloutKey = (config: string, node: string): string => `${prefixes.rollout}${config}/${node}`;

/** The last segment of a key (the node or config name). */
export function keyName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function recordError(key: string, issues: z.core.$ZodIssue[] | string, cause?: unknown): OpsError {
  const text = typeof issues === 'string' ? issues : issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
  return new OpsError('OPS_ERR_LINK_RECORD', `${key}: ${text}`, { details: { key }, cause });
}

/**
 * A record as the JSON text to store, validated first (OPS_ERR_LINK_RECORD when invalid).
 * @example await store.put(nodeKey(n.name), encodeRecord(nodeRecordSchema, n, nodeKey(n.name)));
 */
export function encodeRecord<S extends z.ZodType>(schema: S, value: z.input<S>, key: string): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw recordError(key, parsed.error.issues);
  return JSON.stringify(parsed.data);
}

/** A stored value parsed and validated (OPS_ERR_LINK_RECORD when it is not JSON or not valid). */
export function decodeRecord<S extends z.ZodType>(schema: S, kv: Pick<KV, 'key' | 'value'>): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(kv.value);
  } catch (err) {
    throw recordError(kv.key, 'not JSON', err);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw recordError(kv.key, parsed.error.issues);
  return parsed.data;
}

/** How long a link's lastHeartbeat stays fresh: three refresh periods (the hub refreshes every 30 s). */
export const linkStaleMs = 90_000;

export type NodeStatus =
  | { status: 'ready' }
  | { status: 'not_ready'; reason: string }
  | { status: 'unknown'; reason: string };

/**
 * A node's status from its records: `ready` with a fresh link, `not_ready` without one, `unknown`
 * when the link exists but its replica stopped refreshing it (for /api/v1/nodes).
 * @example nodeStatus(node, links.get(node.name), new Date())
 */
export function nodeStatus(node: NodeRecord, link: LinkRecord | undefined, now: Date, staleMs = linkStaleMs): NodeStatus {
  if (link === undefined) return { status: 'not_ready', reason: `disconnected since ${node.lastSeen}` };
  if (now.getTime() - Date.parse(link.lastHeartbeat) > staleMs) {
    return { status: 'unknown', reason: `replica ${link.replica} has not refreshed the link since ${link.lastHeartbeat}` };
  }
  return { status: 'ready' };
}
