// Two hub replicas on one real etcd (test/helpers/etcd.ts), agents on each: a config push reaches all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEtcd } from '../../test/helpers/etcd.ts';
import { requireTool } from '../../test/helpers/tools.ts';
import { openStore } from '../store/index.ts';
import { configKey, configRecordSchema, decodeRecord, encodeRecord, linkKey, linkRecordSchema, rolloutKey, rolloutRecordSchema } from './records.ts';
import { RecordingApplier, startClient, startHub, until } from './testing.ts';

test('etcd: two replicas, agents linked to each, one config push reaches every matching agent', async (t) => {
  const path = requireTool(t, 'etcd', 'etcd-server');
  if (path === undefined) return;
  const etcd = await startEtcd(path);
  t.after(() => etcd.destroy());
  const storeA = await openStore(etcd.url);
  const storeB = await openStore(etcd.url);
  t.after(async () => { await storeA.close(); await storeB.close(); });
  const a = await startHub(t, storeA, { replica: 'replica-a', leaseTtlSeconds: 5 });
  const b = await startHub(t, storeB, { replica: 'replica-b', leaseTtlSeconds: 5 });
  const agents = ['web-1', 'web-2', 'web-3', 'db-1'].map((name, i) => {
    const apply = new RecordingApplier();
    const hub = i % 2 === 0 ? a : b;
    return { name, apply, hub, client: startClient(t, { url: hub.url, name, labels: { role: name.slice(0, name.indexOf('-')) }, apply }) };
  });
  for (const agent of agents) {
    await until(() => agent.client.linked, `${agent.name} linked`);
    const kv = await storeA.get(linkKey(agent.name));
    assert.equal(kv && decodeRecord(linkRecordSchema, kv).replica, agent.hub.hub.replica);
  }
  const record = { name: 'web-probes', kind: 'probe', selector: 'role=web', body: { targets: [] }, author: 'test', updatedAt: new Date().toISOString() } as const;
  const revision = await storeA.put(configKey('web-probes'), encodeRecord(configRecordSchema, record, configKey('web-probes')));
  for (const agent of agents.filter((x) => x.name.startsWith('web'))) {
    await until(async () => {
      const kv = await storeB.get(rolloutKey('web-probes', agent.name));
      return kv !== undefined && decodeRecord(rolloutRecordSchema, kv).revision === revision;
    }, `rollout of ${agent.name}`, 30_000);
    assert.deepEqual(agent.apply.docs.map((d) => d.revision), [revision]);
  }
  const db = agents.find((x) => x.name === 'db-1');
  assert.deepEqual(db?.apply.docs, []);

  // Replica a stops: it deletes its agents' link keys (they would vanish with its lease anyway).
  await a.close();
  for (const agent of agents.filter((x) => x.hub === a)) assert.equal(await storeB.get(linkKey(agent.name)), undefined);
});
