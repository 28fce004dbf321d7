// Paginated lists over a store prefix, as Kubernetes lists: `limit` and an opaque `continue` token
// that pins the revision of the first page, so the pages form one snapshot; an optional filter
// (a label selector) applies before the limit.
import { OpsError } from '../core/errors.ts';
import type { KV, Store } from '../store/index.ts';

export interface ListQuery {
  limit?: string | undefined;
  continue?: string | undefined;
}

export interface ListPage<T> {
  items: T[];
  /** The store revision the list was read at. */
  revision: number;
  /** Pass as `continue` for the next page; absent on the last page. */
  continue?: string;
}

interface Token { after: string; revision: number }

const maxLimit = 1000;

/** Reads one page of `prefix`: values decoded by `decode` (undefined: skipped), kept when `keep` says so. */
export async function listPage<T>(store: Store, prefix: string, query: ListQuery, decode: (kv: KV) => T | undefined, keep: (item: T) => boolean = () => true): Promise<ListPage<T>> {
  const limit = parseLimit(query.limit);
  const token = query.continue === undefined || query.continue === '' ? undefined : parseToken(query.continue, prefix);
  let after = token?.after;
  let revision = token?.revision;
  const items: T[] = [];
  for (;;) {
    const page = await store.range(prefix, { limit: limit - items.length, ...(after !== undefined && { after }), ...(revision !== undefined && { revision }) });
    revision ??= page.revision;
    for (const kv of page.kvs) {
      const item = decode(kv);
      if (item !== undefined && keep(item)) items.push(item);
      after = kv.key;
    }
    if (!page.more) return { items, revision };
    if (items.length >= limit) return { items, revision, continue: encodeToken({ after: after as string, revision }) };
  }
}

function parseLimit(text: string | undefined): number {
  if (text === undefined || text === '') return 100;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > maxLimit) throw new OpsError('OPS_ERR_API_BAD_REQUEST', `limit: expected a whole number from 1 to ${maxLimit}, got "${text}"`, { details: { parameter: 'limit' } });
  return n;
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function parseToken(text: string, prefix: string): Token {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Token>;
    if (typeof t.after === 'string' && t.after.startsWith(prefix) && Number.isSafeInteger(t.revision) && (t.revision as number) > 0) return t as Token;
  } catch {
    // fall through
  }
  throw new OpsError('OPS_ERR_API_BAD_REQUEST', 'continue: not a token this list gave', { details: { parameter: 'continue' } });
}
