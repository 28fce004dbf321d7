// Every config document under /opsctl/config/, kept current: listed, then watched from the list's
// revision + 1; a compacted watch lists again and reports what changed in between (a full resync,
// never a silent gap). The hub pushes from it; each change is reported once, in revision order.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isOpsError } from '../core/errors.ts';
import { backoffMs, retryPolicy } from '../core/retry.ts';
import type { KV, Store } from '../store/types.ts';
import { configRecordSchema, decodeRecord, keyName, prefixes, type ConfigRecord } from './records.ts';
import { parseSelector, type Selector } from './selector.ts';

/** A config document with its revision (the key's modRevision) and its parsed selector. */
export interface ConfigEntry {
  record: ConfigRecord;
  revision: number;
  selector: Selector;
}

export interface ConfigCacheOptions {
  store: Store;
  log: Logger;
  /** A config appeared, changed (`entry`) or went away (`entry` undefined; `previous` is what it was). */
  onChange(name: string, entry: ConfigEntry | undefined, previous: ConfigEntry | undefined): void;
}

const retry = retryPolicy({ baseDelayMs: 500, maxDelayMs: 10_000 });

export class ConfigCache {
  readonly #options: ConfigCacheOptions;
  readonly #entries = new Map<string, ConfigEntry>();

  constructor(options: ConfigCacheOptions) {
    this.#options = options;
  }

  get(name: string): ConfigEntry | undefined {
    return this.#entries.get(name);
  }

  names(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /**
   * Lists the documents (rejects if the store cannot be read), then watches them in the background
   * until `signal` aborts; the returned `done` resolves once the watch has ended.
   */
  async start(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    const revision = await this.#list();
    return { done: this.#watch(revision + 1, signal) };
  }

  async #watch(from: number, signal: AbortSignal): Promise<void> {
    const { store, log } = this.#options;
    let next = from;
    let failures = 0;
    while (!signal.aborted) {
      try {
        for await (const ev of store.watch(prefixes.config, { fromRevision: next, signal })) {
          failures = 0;
          next = ev.revision + 1;
          this.#set(keyName(ev.kv.key), ev.type === 'put' ? this.#decode(ev.kv) : undefined);
        }
        if (!signal.aborted) log.warn('config watch ended: the store was closed');
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (isOpsError(err, 'OPS_ERR_STORE_CLOSED')) return;
        const compacted = isOpsError(err, 'OPS_ERR_STORE_COMPACTED');
        log.warn({ err: err instanceof Error ? err.message : String(err), fromRevision: next }, compacted ? 'config watch compacted, listing again' : 'config watch failed, retrying');
        if (!compacted) await sleep(backoffMs(retry, ++failures, Math.random), undefined, { signal }).catch(() => undefined);
        if (compacted) {
          try {
            next = (await this.#list()) + 1;
          } catch (listErr) {
            log.warn({ err: listErr instanceof Error ? listErr.message : String(listErr) }, 'config list failed, retrying');
            await sleep(backoffMs(retry, ++failures, Math.random), undefined, { signal }).catch(() => undefined);
            // Still compacted next time round: the watch fails again and we list again.
          }
        }
      }
    }
  }

  /** Lists every document (paged at one revision), reports the differences, resolves to the revision. */
  async #list(): Promise<number> {
    const { store } = this.#options;
    const seen = new Map<string, ConfigEntry | undefined>();
    let after: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await store.range(prefixes.config, { limit: 500, ...(after !== undefined && { after }), ...(revision !== undefined && { revision }) });
      revision ??= page.revision;
      for (const kv of page.kvs) seen.set(keyName(kv.key), this.#decode(kv));
      if (!page.more || page.kvs.length === 0) break;
      after = page.kvs[page.kvs.length - 1]?.key;
    }
    for (const name of [...this.#entries.keys()]) if (!seen.has(name)) this.#set(name, undefined);
    for (const [name, entry] of seen) this.#set(name, entry);
    return revision;
  }

  /** A stored document, or undefined (logged) when it is not valid: treated as absent. */
  #decode(kv: KV): ConfigEntry | undefined {
    try {
      const record = decodeRecord(configRecordSchema, kv);
      if (record.name !== keyName(kv.key)) throw new Error(`name "${record.name}" differs from its key`);
      return { record, revision: kv.modRevision, selector: parseSelector(record.selector) };
    } catch (err) {
      this.#options.log.warn({ key: kv.key, err: err instanceof Error ? err.message : String(err) }, 'config record ignored');
      return undefined;
    }
  }

  #set(name: string, entry: ConfigEntry | undefined): void {
    const previous = this.#entries.get(name);
    if (entry === undefined && previous === undefined) return;
    if (entry !== undefined && previous?.revision === entry.revision) return;
    if (entry === undefined) this.#entries.delete(name);
    else this.#entries.set(name, entry);
    this.#options.onChange(name, entry, previous);
  }
}
