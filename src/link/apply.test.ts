import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { FileApplier, validatePushed } from './apply.ts';

const log = pino({ level: 'silent' });

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-apply-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('apply: each kind is validated with its own schema, errors naming the key', async () => {
  assert.deepEqual(await validatePushed({ name: 'a', kind: 'agent', body: { enabled: true, disable: ['cpu'] } }), { ok: true });
  const agent = await validatePushed({ name: 'a', kind: 'agent', body: { enabled: true, colectors: [] } });
  assert.deepEqual(agent, { ok: false, error: 'pushed agent config "a": key "colectors": unknown key (check its spelling and the section it is in)' });
  const ship = await validatePushed({ name: 's', kind: 'ship', body: { sinks: { out: { type: 'console', inputs: ['nowhere'] } } } });
  assert.ok(!ship.ok && /^pushed ship config "s": /.test(ship.error) && ship.error.includes('nowhere'), JSON.stringify(ship));
  const probe = await validatePushed({ name: 'p', kind: 'probe', body: { targets: [{ name: 'x', target: 'h:1', module: 'nope' }] } });
  assert.ok(!probe.ok && probe.error.includes('key "targets.0.module"') && probe.error.includes('"nope", which is not defined'), JSON.stringify(probe));
});

test('apply: a valid document is written atomically, remembered across restarts and removed', async (t) => {
  const dir = dataDir(t);
  const events: string[] = [];
  const applier = new FileApplier({ dataDir: dir, log, onApplied: (kind, name, file) => { events.push(`applied ${kind}/${name} ${file}`); }, onRemoved: (kind, name) => { events.push(`removed ${kind}/${name}`); } });
  const body = { enabled: true, listen: '127.0.0.1:9101' };
  assert.deepEqual(await applier.apply({ name: 'base', kind: 'agent', revision: 3, body }), { ok: true });
  const file = join(dir, 'pushed', 'agent', 'base.json');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), body);
  assert.deepEqual(events, [`applied agent/base ${file}`]);

  // A restarted agent knows what it applied.
  const again = new FileApplier({ dataDir: dir, log });
  assert.deepEqual(await again.applied(), { base: { kind: 'agent', revision: 3 } });

  // An invalid revision changes nothing.
  const bad = await applier.apply({ name: 'base', kind: 'agent', revision: 4, body: { listen: 'nowhere' } });
  assert.ok(!bad.ok && bad.error.includes('key "listen"'));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), body);
  assert.deepEqual(await new FileApplier({ dataDir: dir, log }).applied(), { base: { kind: 'agent', revision: 3 } });

  // A document that changes kind leaves no file of the old kind behind.
  assert.deepEqual(await applier.apply({ name: 'base', kind: 'probe', revision: 5, body: {} }), { ok: true });
  assert.equal(existsSync(file), false);
  assert.ok(existsSync(join(dir, 'pushed', 'probe', 'base.json')));

  await applier.remove('base', 'probe');
  assert.equal(existsSync(join(dir, 'pushed', 'probe', 'base.json')), false);
  assert.deepEqual(await new FileApplier({ dataDir: dir, log }).applied(), {});
  assert.deepEqual(events.at(-1), 'removed probe/base');
});

test('apply: a failing onApplied acks the error and keeps the previous document', async (t) => {
  const dir = dataDir(t);
  let refuse = false;
  const applier = new FileApplier({ dataDir: dir, log, onApplied: () => { if (refuse) throw new Error('reload refused'); } });
  assert.deepEqual(await applier.apply({ name: 'p', kind: 'probe', revision: 1, body: { concurrency: 1 } }), { ok: true });
  refuse = true;
  const result = await applier.apply({ name: 'p', kind: 'probe', revision: 2, body: { concurrency: 2 } });
  assert.deepEqual(result, { ok: false, error: 'applying it failed, the previous one is kept: reload refused' });
  assert.deepEqual(JSON.parse(readFileSync(applier.file('probe', 'p'), 'utf8')), { concurrency: 1 });
  assert.deepEqual(await new FileApplier({ dataDir: dir, log }).applied(), { p: { kind: 'probe', revision: 1 } });
  const fresh = await applier.apply({ name: 'q', kind: 'probe', revision: 3, body: {} });
  assert.equal(fresh.ok, false);
  assert.equal(existsSync(applier.file('probe', 'q')), false, 'a new document that could not run leaves no file');
});
