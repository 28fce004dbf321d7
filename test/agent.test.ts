// `opsctl agent` end to end, and side by side with Debian's prometheus-node-exporter on this machine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startCli, waitForLine } from './helpers/cli.ts';
import { freePort, stopChild } from './helpers/process.ts';
import { requireTool } from './helpers/tools.ts';

interface Family { type: string; labelSets: Set<string>; series: Map<string, number> }

/** Families by name: TYPE, the label-name sets seen, and each series' value keyed by its label text. */
function parseExposition(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = out.get(name);
    if (!f) out.set(name, (f = { type: 'untyped', labelSets: new Set(), series: new Map() }));
    return f;
  };
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) family(type[1]).type = type[2];
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!s?.[1] || s[3] === undefined) continue;
    const f = family(s[1]);
    f.labelSets.add([...(s[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)].map((m) => m[1]).sort().join(','));
    f.series.set(s[2] ?? '', Number(s[3]));
  }
  return out;
}

function get(address: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const url = new URL(`http://${address}/metrics`);
  return new Promise((resolve, reject) => {
    request({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

async function startAgent(args: string[] = []): Promise<{ address: string; stop: () => Promise<number | null> }> {
  const child = startCli(['agent', '--listen', '127.0.0.1:0', ...args]);
  const line = await waitForLine(child, /"msg":"listening"/);
  const address = (JSON.parse(line) as { address: string }).address;
  return {
    address,
    stop: async () => { await stopChild(child); return child.exitCode; },
  };
}

test('opsctl agent serves /metrics, gzipped when asked, and stops cleanly on SIGTERM', async (t) => {
  const agent = await startAgent(['--no-collector.filesystem']);
  t.after(() => agent.stop());
  const plain = await get(agent.address);
  assert.equal(plain.status, 200);
  const text = plain.body.toString();
  assert.match(text, /^node_load1 \d/m);
  assert.match(text, /^node_scrape_collector_success\{collector="cpu"\} 1$/m);
  assert.doesNotMatch(text, /collector="filesystem"/, '--no-collector.filesystem turns it off');

  const zipped = await get(agent.address, { 'accept-encoding': 'gzip' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(gunzipSync(zipped.body).toString(), /^# TYPE node_cpu_seconds_total counter$/m);

  const scrapes = await Promise.all(Array.from({ length: 5 }, () => get(agent.address)));
  assert.ok(scrapes.every((s) => s.status === 200 && s.body.includes('node_time_seconds')));
  assert.equal(await agent.stop(), 0);
});

test('same families, types and labels as prometheus-node-exporter; slow gauges agree', async (t) => {
  const exporter = requireTool(t, 'prometheus-node-exporter', 'prometheus-node-exporter');
  if (!exporter) return;
  const port = await freePort();
  const child = spawn(exporter, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => stopChild(child));
  const agent = await startAgent();
  t.after(() => agent.stop());

  let theirsText = '';
  for (let i = 0; i < 100 && theirsText === ''; i++) {
    theirsText = await get(`127.0.0.1:${port}`).then((r) => (r.status === 200 ? r.body.toString() : ''), () => '');
    if (theirsText === '') await new Promise((r) => setTimeout(r, 100));
  }
  assert.notEqual(theirsText, '', 'node_exporter did not start');
  const [oursText] = await Promise.all([get(agent.address).then((r) => r.body.toString())]);
  const ours = parseExposition(oursText);
  const theirs = parseExposition(theirsText);

  // node_exporter 1.5 (Debian 12) predates the cpu "full" PSI line that later versions export.
  const newerThanDebian = new Set(['node_pressure_cpu_stalled_seconds_total']);
  const compared = [...ours.keys()].filter((n) => n.startsWith('node_') && !newerThanDebian.has(n));
  assert.ok(compared.length > 60, `only ${compared.length} families`);
  for (const name of compared) {
    const a = ours.get(name);
    const b = theirs.get(name);
    assert.ok(b, `${name}: node_exporter has no such family`);
    assert.equal(a?.type, b.type, `${name}: TYPE`);
    if (name !== 'node_scrape_collector_success' && name !== 'node_scrape_collector_duration_seconds') {
      assert.deepEqual([...(a?.labelSets ?? [])].sort(), [...b.labelSets].sort(), `${name}: label names`);
    }
  }

  const one = (f: Map<string, Family>, name: string, labels = ''): number | undefined => f.get(name)?.series.get(labels);
  assert.equal(one(ours, 'node_memory_MemTotal_bytes'), one(theirs, 'node_memory_MemTotal_bytes'));
  const boot = [one(ours, 'node_boot_time_seconds'), one(theirs, 'node_boot_time_seconds')];
  assert.ok(boot[0] !== undefined && boot[1] !== undefined && Math.abs(boot[0] - boot[1]) <= 1, `boot time ${boot.join(' vs ')}`);
  const rootOf = (f: Map<string, Family>): number | undefined =>
    [...(f.get('node_filesystem_size_bytes')?.series ?? [])].find(([labels]) => labels.includes('mountpoint="/"'))?.[1];
  const root = [rootOf(ours), rootOf(theirs)];
  assert.equal(root[0] === undefined, root[1] === undefined, 'both or neither report /');
  if (root[0] !== undefined && root[1] !== undefined) assert.ok(Math.abs(root[0] - root[1]) <= root[1] * 0.001, `size of / ${root.join(' vs ')}`);
  for (const name of compared.filter((n) => n.startsWith('node_scrape_collector_success'))) {
    for (const [labels, v] of ours.get(name)?.series ?? []) assert.equal(v, 1, `${labels} failed`);
  }
});
