import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { OpsError } from '../core/errors.ts';
import { openStore } from '../store/index.ts';
import type { Store, WatchEvent, WatchOptions } from '../store/types.ts';
import { ConfigCache } from './config-cache.ts';
import { configKey, configRecordSchema, encodeRecord } from './records.ts';
import { until } from './testing.ts';

const put = (store: Store, name: string, selector = ''): Promise<number> =>
  store.put(configKey(name), encodeRecord(configRecordSchema, { name, kind: 'probe', selector, body: {}, author: 't', updatedAt: new Date().toISOString() }, configKey(name)));

test('config cache: list, watch, and a compacted watch lists again and reports what changed meanwhile', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
  t.after(() => store.close());
  const r1 = await put(store, 'one');
  await store.put(configKey('broken'), '{"name": "broken"}');

  // The first watch fails as compacted once `compact` is released; later ones are the store's.
  let release = (): void => undefined;
  const compact = new Promise<void>((resolve) => { release = resolve; });
  let watches = 0;
  const wrapped: Store = {
    backend: store.backend,
    get: (key) => store.get(key),
    range: (prefix, options) => store.range(prefix, options),
    txn: (request) => store.txn(request),
    put: (key, value, options) => store.put(key, value, options),
    delete: (key, options) => store.delete(key, options),
    grant: (ttl, options) => store.grant(ttl, options),
    compact: (revision) => store.compact(revision),
    health: () => store.health(),
    close: () => store.close(),
    watch: (prefix: string, options?: WatchOptions): AsyncIterable<WatchEvent> => {
      if (watches++ > 0) return store.watch(prefix, options);
      return (async function* failing(): AsyncGenerator<WatchEvent> {
        await compact;
        throw new OpsError('OPS_ERR_STORE_COMPACTED', 'compacted', { details: { compactRevision: 99 } });
      })();
    },
  };
  const changes: Array<[string, number | undefined]> = [];
  const cache = new ConfigCache({ store: wrapped, log: pino({ level: 'silent' }), onChange: (name, entry) => { changes.push([name, entry?.revision]); } });
  const abort = new AbortController();
  const { done } = await cache.start(abort.signal);
  t.after(async () => { abort.abort(); await done; });
  assert.deepEqual(changes, [['one', r1]], 'an invalid record is left out');

  // Changes the first watch never delivers: found by the list after the compaction.
  await store.delete(configKey('one'));
  const r2 = await put(store, 'two', 'role=web');
  release();
  await until(() => changes.length === 3, 'the relist');
  assert.deepEqual(changes.slice(1), [['one', undefined], ['two', r2]]);
  assert.equal(cache.get('two')?.selector[0]?.key, 'role');

  // And the watch goes on from the list.
  const r3 = await put(store, 'three');
  await until(() => changes.length === 4, 'a watched change');
  assert.deepEqual(changes[3], ['three', r3]);
  assert.equal(watches, 2);
});
