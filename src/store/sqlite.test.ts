import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { storeConformance, take } from './conformance.ts';
import { openStore } from './index.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

storeConformance('sqlite', {
  open: (t) => openStore('sqlite:store.db', { dataDir: tempDir(t) }),
  url: (t) => Promise.resolve(`sqlite:${join(tempDir(t), 'store.db')}`),
});

/** Invariants of a store file: integrity, contiguous revisions, `kv` equal to the log's latest live rows. */
function checkFile(path: string): { revision: number; keys: number } {
  const db = new DatabaseSync(path);
  try {
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    const revision = (db.prepare("SELECT value FROM meta WHERE name = 'revision'").get() as { value: number }).value;
    const revs = db.prepare('SELECT revision, COUNT(*) AS n, MIN(sub) AS lo, MAX(sub) AS hi FROM log GROUP BY revision ORDER BY revision').all() as Array<{ revision: number; n: number; lo: number; hi: number }>;
    assert.deepEqual(revs.map((r) => r.revision), Array.from({ length: revision }, (_, i) => i + 1), 'log revisions are 1..revision');
    assert.ok(revs.every((r) => r.lo === 0 && r.hi === r.n - 1), 'each revision rows are numbered 0..n-1');
    const latest = db.prepare(`SELECT key, value, create_revision, revision AS mod_revision, version, lease FROM log l WHERE deleted = 0
      AND NOT EXISTS (SELECT 1 FROM log n WHERE n.key = l.key AND n.revision > l.revision) ORDER BY key`).all();
    const kv = db.prepare('SELECT key, value, create_revision, mod_revision, version, lease FROM kv ORDER BY key').all();
    assert.deepEqual(kv, latest, 'kv holds exactly the latest live row of each key');
    return { revision, keys: kv.length };
  } finally {
    db.close();
  }
}

test('sqlite: kill -9 while writing leaves a consistent file that keeps every acknowledged commit', async (t) => {
  const path = join(tempDir(t), 'store.db');
  let acknowledged = 0;
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, [new URL('./testdata/crash-writer.ts', import.meta.url).pathname, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    const target = acknowledged + 200;
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        acknowledged = Math.max(acknowledged, Number(line.slice('rev '.length)));
        if (acknowledged >= target) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the writer exited (${code}) at revision ${acknowledged}`)));
    });
    // While the writer holds the file, no one else may open it.
    await assert.rejects(openStore(`sqlite:${path}`), (err) => isOpsError(err, 'OPS_ERR_STORE_LOCKED'));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const { revision } = checkFile(path);
    assert.ok(revision >= acknowledged, `revision ${revision} after the kill, but ${acknowledged} was acknowledged`);
    acknowledged = revision;
  }
  const store = await openStore(`sqlite:${path}`);
  t.after(() => store.close());
  assert.equal(await store.put('/after/crash', '1'), acknowledged + 1);
});

test('sqlite: one process owns the file: a second open fails with OPS_ERR_STORE_LOCKED until close', async (t) => {
  const path = join(tempDir(t), 'store.db');
  const first = await openStore(`sqlite:${path}`);
  await assert.rejects(openStore(`sqlite:${path}`), (err) => isOpsError(err, 'OPS_ERR_STORE_LOCKED') && err.message.includes(path));
  await first.close();
  const second = await openStore(`sqlite:${path}`);
  await second.close();
});

test('sqlite: reopening keeps data, revisions and compaction, and expires leases left behind', async (t) => {
  const path = join(tempDir(t), 'store.db');
  const first = await openStore(`sqlite:${path}`);
  const r1 = await first.put('/a', '1');
  await first.put('/a', '2');
  const lease = await first.grant(1, { autoKeepAlive: false });
  const r3 = await first.put('/node', 'up', { lease: lease.id });
  await first.compact(r3);
  await first.close();

  const store = await openStore(`sqlite:${path}`);
  t.after(() => store.close());
  assert.equal((await store.get('/a'))?.value, '2');
  await assert.rejects(store.range('/', { revision: r1 }), (err) => isOpsError(err, 'OPS_ERR_STORE_COMPACTED'));
  const [gone] = await take(store, '/node', 1, { fromRevision: r3 + 1 });
  assert.deepEqual(gone && [gone.type, gone.kv.key, gone.revision], ['delete', '/node', r3 + 1]);
});

test('sqlite: a missing directory is created; an unusable path fails with OPS_ERR_STORE_OPEN', async (t) => {
  const dir = tempDir(t);
  const store = await openStore('sqlite:deep/er/store.db', { dataDir: dir });
  await store.close();
  await assert.rejects(openStore(`sqlite:${join(dir, 'deep')}`), (err) => isOpsError(err, 'OPS_ERR_STORE_OPEN'));
});
