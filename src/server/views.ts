// What the API shows of the agent link's records: nodes with their status, and the rollout of a
// config document per node.
import type { Logger } from 'pino';
import { OpsError } from '../core/errors.ts';
import {
  configKey, configRecordSchema, decodeRecord, keyName, linkKey, linkRecordSchema, nodeKey, nodeRecordSchema, nodeStatus, prefixes,
  rolloutRecordSchema, type LinkRecord, type NodeRecord, type RolloutRecord,
} from '../link/records.ts';
import { matches, parseSelector } from '../link/selector.ts';
import type { KV, Store } from '../store/index.ts';
import type { NodesView, RolloutView } from './api.ts';
import { listPage } from './list.ts';

/** A node as the API returns it. */
export type NodeView = NodeRecord & { status: 'ready' | 'not_ready' | 'unknown'; reason?: string; replica?: string; connectedAt?: string; revision: number };

function decodeOr<T>(log: Logger, decode: () => T): T | undefined {
  try {
    return decode();
  } catch (err) {
    log.warn({ err }, 'skipping a record that does not match its schema');
    return undefined;
  }
}

function view(node: NodeRecord, revision: number, link: LinkRecord | undefined, now: Date): NodeView {
  const s = nodeStatus(node, link, now);
  return { ...node, revision, status: s.status, ...('reason' in s && { reason: s.reason }), ...(link && { replica: link.replica, connectedAt: link.connectedAt }) };
}

/**
 * Decoded records by key, valid while the key's modRevision is the same (a record never changes
 * without a new revision): a list of 1,000 nodes then validates only what changed since the last.
 */
class DecodeCache<T> {
  readonly #entries = new Map<string, { revision: number; value: T | undefined }>();
  readonly #decode: (kv: KV) => T | undefined;

  constructor(decode: (kv: KV) => T | undefined) {
    this.#decode = decode;
  }

  get(kv: KV): T | undefined {
    const hit = this.#entries.get(kv.key);
    if (hit && hit.revision === kv.modRevision) return hit.value;
    if (this.#entries.size >= 200_000) this.#entries.clear(); // bounded: start over rather than grow
    const value = this.#decode(kv);
    this.#entries.set(kv.key, { revision: kv.modRevision, value });
    return value;
  }
}

/** Every key-value under `prefix`, page by page at one revision. */
async function rangeAll(store: Store, prefix: string): Promise<KV[]> {
  const out: KV[] = [];
  let after: string | undefined;
  let revision: number | undefined;
  for (;;) {
    const page = await store.range(prefix, { limit: 1000, ...(after !== undefined && { after }), ...(revision !== undefined && { revision }) });
    revision ??= page.revision;
    out.push(...page.kvs);
    if (!page.more) return out;
    after = page.kvs.at(-1)?.key;
  }
}

export function nodesView(store: Store, log: Logger): NodesView {
  const nodes = new DecodeCache((kv) => decodeOr(log, () => decodeRecord(nodeRecordSchema, kv)));
  const links = new DecodeCache((kv) => decodeOr(log, () => decodeRecord(linkRecordSchema, kv)));
  const link = async (name: string): Promise<LinkRecord | undefined> => {
    const kv = await store.get(linkKey(name));
    return kv && links.get(kv);
  };
  return {
    async list(query) {
      const selector = parseSelector(query.selector ?? '');
      const page = await listPage(store, prefixes.nodes, query, (kv) => {
        const node = nodes.get(kv);
        return node && { node, revision: kv.modRevision };
      }, ({ node }) => matches(selector, node.labels));
      // One read of every link rather than one per node.
      const byNode = new Map<string, LinkRecord>();
      for (const kv of await rangeAll(store, prefixes.links)) {
        const l = links.get(kv);
        if (l) byNode.set(l.node, l);
      }
      const now = new Date();
      return { ...page, items: page.items.map(({ node, revision }) => view(node, revision, byNode.get(node.name), now)) };
    },
    async get(name) {
      const kv = await store.get(nodeKey(name));
      const node = kv && nodes.get(kv);
      if (!kv || !node) throw new OpsError('OPS_ERR_API_NOT_FOUND', `no node "${name}"`, { details: { kind: 'node', name } });
      return view(node, kv.modRevision, await link(name), new Date());
    },
    async forget(name) {
      const key = nodeKey(name);
      const res = await store.txn({ compare: [{ key, target: 'create', op: '>', value: 0 }], success: [{ op: 'delete', key }] });
      if (!res.succeeded) throw new OpsError('OPS_ERR_API_NOT_FOUND', `no node "${name}"`, { details: { kind: 'node', name } });
      return res.revision;
    },
  };
}

/** One node's state for a document: applied (its current revision), failed (the current one did not apply), outdated (an older one applied), pending. */
export interface RolloutNode { node: string; state: 'applied' | 'failed' | 'outdated' | 'pending'; revision?: number; ok?: boolean; error?: string; appliedAt?: string; status?: string }

export function rolloutView(store: Store, log: Logger): RolloutView {
  return {
    async rollout(name) {
      const kv = await store.get(configKey(name));
      const doc = kv && decodeOr(log, () => decodeRecord(configRecordSchema, kv));
      if (!kv || !doc) throw new OpsError('OPS_ERR_API_NOT_FOUND', `no config "${name}"`, { details: { kind: 'config', name } });
      const revision = kv.modRevision;
      const selector = parseSelector(doc.selector);
      const all = (prefix: string): Promise<KV[]> => rangeAll(store, prefix);
      const [nodeKvs, linkKvs, rolloutKvs] = await Promise.all([all(prefixes.nodes), all(prefixes.links), all(`${prefixes.rollout}${name}/`)]);
      const links = new Map(linkKvs.flatMap((l) => { const r = decodeOr(log, () => decodeRecord(linkRecordSchema, l)); return r ? [[r.node, r] as const] : []; }));
      const acks = new Map<string, RolloutRecord>(rolloutKvs.flatMap((r) => { const a = decodeOr(log, () => decodeRecord(rolloutRecordSchema, r)); return a ? [[keyName(r.key), a] as const] : []; }));
      const now = new Date();
      const nodes: RolloutNode[] = [];
      for (const nkv of nodeKvs) {
        const node = decodeOr(log, () => decodeRecord(nodeRecordSchema, nkv));
        if (!node || !matches(selector, node.labels)) continue;
        const ack = acks.get(node.name);
        const status = nodeStatus(node, links.get(node.name), now).status;
        const state = ack === undefined ? 'pending' : ack.revision === revision ? (ack.ok ? 'applied' : 'failed') : ack.revision < revision ? (ack.ok ? 'outdated' : 'pending') : 'applied';
        nodes.push({ node: node.name, state, status, ...(ack && { revision: ack.revision, ok: ack.ok, appliedAt: ack.appliedAt, ...(ack.error !== undefined && { error: ack.error }) }) });
      }
      const count = (s: RolloutNode['state']): number => nodes.filter((n) => n.state === s).length;
      return {
        config: name, revision, selector: doc.selector, nodes,
        summary: { matching: nodes.length, applied: count('applied'), failed: count('failed'), outdated: count('outdated'), pending: count('pending') },
        complete: nodes.every((n) => n.state === 'applied'),
      };
    },
  };
}
