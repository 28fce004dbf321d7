// Seeds a server store with N nodes (node and link records, as linked agents would leave them),
// for bench/server/run.sh. Usage: node bench/server/seed.ts STORE_DB N
import { openStore } from '../../src/store/index.ts';
import { encodeRecord, linkKey, linkRecordSchema, nodeKey, nodeRecordSchema } from '../../src/link/records.ts';

const [file, count] = process.argv.slice(2);
const store = await openStore(`sqlite:${file ?? 'store.db'}`);
const now = new Date().toISOString();
const n = Number(count ?? 1000);
for (let i = 0; i < n; i += 100) {
  const success = [];
  for (let j = i; j < Math.min(n, i + 100); j++) {
    const name = `node-${String(j).padStart(4, '0')}`;
    const node = {
      name, labels: { role: j % 3 === 0 ? 'db' : 'web', zone: `z${j % 4}` }, firstSeen: now, lastSeen: now, lastReplica: 'bench',
      facts: { hostname: name, os: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0-28-amd64', arch: 'x64', cpus: 8, memoryBytes: 34_359_738_368, agentVersion: '0.1.0' },
    };
    success.push({ op: 'put' as const, key: nodeKey(name), value: encodeRecord(nodeRecordSchema, node, nodeKey(name)) });
    const link = { node: name, replica: 'bench', connectedAt: now, lastHeartbeat: '2999-01-01T00:00:00.000Z', address: '127.0.0.1' };
    success.push({ op: 'put' as const, key: linkKey(name), value: encodeRecord(linkRecordSchema, link, linkKey(name)) });
  }
  await store.txn({ success });
}
await store.close();
