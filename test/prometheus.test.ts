// End to end with a real Prometheus (Debian's): it scrapes `opsctl probe serve`'s /probe through
// the usual blackbox relabelling, unchanged, and answers probe_success through its query API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startCli, waitForLine } from './helpers/cli.ts';
import { freePort, stopChild } from './helpers/process.ts';
import { requireTool } from './helpers/tools.ts';


test('Prometheus scrapes /probe through blackbox relabelling and sees probe_success', async (t) => {
  const prometheus = requireTool(t, 'prometheus', 'prometheus');
  if (!prometheus) return;
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-prom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const target = createServer((req, res) => {
    res.statusCode = req.url === '/ok' ? 200 : 503;
    res.end('x');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  t.after(() => target.close());
  const tport = (target.address() as AddressInfo).port;

  const config = join(dir, 'probes.toml');
  writeFileSync(config, 'listen = "127.0.0.1:0"\n[modules.http_2xx]\nprober = "http"\ntimeout = "2s"\n');
  const opsctl = startCli(['probe', 'serve', '--config', config]);
  t.after(() => stopChild(opsctl));
  const listening = await waitForLine(opsctl, /"msg":"listening"/);
  const address = (JSON.parse(listening) as { address: string }).address;

  const pport = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ['http://127.0.0.1:${tport}/ok', 'http://127.0.0.1:${tport}/fail']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${address}
`);
  const prom = spawn(prometheus, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${pport}`, '--log.level=warn',
  ], { stdio: 'ignore' });
  t.after(() => stopChild(prom));

  const query = `http://127.0.0.1:${pport}/api/v1/query?query=${encodeURIComponent('probe_success{job="blackbox"}')}`;
  let byInstance = new Map<string, string>();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await sleep(500);
    try {
      const body = await (await fetch(query)).json() as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      byInstance = new Map((body.data?.result ?? []).map((r) => [r.metric.instance ?? '', r.value[1]]));
      if (byInstance.size === 2) break;
    } catch {
      // Prometheus is still starting.
    }
  }
  assert.equal(byInstance.get(`http://127.0.0.1:${tport}/ok`), '1', `query results: ${JSON.stringify([...byInstance])}`);
  assert.equal(byInstance.get(`http://127.0.0.1:${tport}/fail`), '0');
});
