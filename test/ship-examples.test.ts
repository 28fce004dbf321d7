// End to end: every examples/ship*.toml passes `opsctl ship --check-config`, examples/ship.toml
// holds the config, and the dev example (what `npm start` runs under up) ships a line.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { repoRoot, runCli } from './helpers/cli.ts';
import { q, startShip, workspace } from './helpers/ship.ts';

const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => /^ship.*\.toml$/.test(f)).sort();

test('the ship examples exist', () => {
  assert.ok(examples.includes('ship.toml'), examples.join(', '));
  assert.ok(examples.includes('ship-dev.toml'), examples.join(', '));
});

for (const name of examples) {
  test(`examples/${name} passes --check-config`, async () => {
    const res = await runCli(['ship', '--config', join('examples', name), '--check-config']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^config ok: examples/${name.replace('.', '\\.')} \\(`));
  });
}

test('examples/ship.toml holds the issue config as written', () => {
  const config = parse(readFileSync(join(repoRoot, 'examples/ship.toml'), 'utf8'));
  const at = (path: string, keys: string[]): Record<string, unknown> => {
    let value: unknown = config;
    for (const part of path === '' ? [] : path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    return Object.fromEntries(keys.map((k) => [k, (value as Record<string, unknown> | undefined)?.[k]]));
  };
  assert.deepEqual(at('', ['data_dir', 'listen']), { data_dir: '/var/lib/opsctl/ship', listen: '127.0.0.1:9180' });
  assert.deepEqual(at('sources.app', ['type', 'include', 'read_from']), { type: 'file', include: ['/var/log/app/*.log'], read_from: 'beginning' });
  assert.deepEqual(at('transforms.parse', ['type', 'inputs', 'format']), { type: 'parse', inputs: ['app'], format: 'nginx' });
  assert.deepEqual(at('sinks.collector', ['type', 'inputs', 'url', 'encoding', 'fallback']), {
    type: 'http', inputs: ['parse'], url: 'http://127.0.0.1:8080/ingest', encoding: 'ndjson', fallback: 'spool',
  });
  assert.deepEqual(at('sinks.spool', ['type', 'inputs', 'path']), { type: 'file', inputs: [], path: '/var/lib/opsctl/ship/fallback.ndjson' });
});

test('examples/ship-dev.toml ships an appended line to stdout, redacted', async (t) => {
  const ws = workspace(t);
  // Only where it reads and keeps its state move into the temp dir.
  const ship = await startShip(t, join(repoRoot, 'examples/ship-dev.toml'), {
    args: ['--listen', '127.0.0.1:0'],
    env: {
      OPSCTL_SHIP_DATA_DIR: ws.data,
      OPSCTL_SHIP_SOURCES__APP__INCLUDE: `[${q(join(ws.logs, '*.log'))}]`,
      OPSCTL_SHIP_LOG__FORMAT: 'json',
    },
  });
  let stdout = '';
  ship.child.stdout?.on('data', (d: Buffer | string) => { stdout += d.toString(); });
  const log = join(ws.logs, 'app.log');
  writeFileSync(log, 'login alice@example.com password=hunter2\n');
  const deadline = Date.now() + 15_000;
  while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Text encoding: <timestamp> <LEVEL> <source> <message>.
  const [time = '', ...rest] = (stdout.split('\n')[0] ?? '').split(' ');
  assert.ok(!Number.isNaN(Date.parse(time)), stdout);
  assert.equal(rest.join(' '), `UNKNOWN ${log} login [REDACTED] password=[REDACTED]`);
  assert.equal(await ship.metric('opsctl_ship_events_out_total', { component: 'out', kind: 'sink' }), 1);
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});
