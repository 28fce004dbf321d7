// End to end: `opsctl ps` and `opsctl snapshot` against the live /proc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliPath, runCli } from './helpers/cli.ts';

/** pid -> start time (field 22 of stat), so a pid reused during the run is not mistaken for one process. */
function pidsNow(): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      out.set(Number(n), stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '');
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
const tmp = mkdtempSync(join(tmpdir(), 'opsctl-ps-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('ps --json is valid JSON whose pids match /proc', async () => {
  const startedAt = Date.now() / 1000;
  const before = pidsNow();
  const res = await runCli(['ps', '--json']);
  const afterPids = pidsNow();
  assert.equal(res.code, 0, res.stderr);
  const list = JSON.parse(res.stdout) as Array<Record<string, unknown>>;
  const seen = new Set(list.map((p) => p.pid as number));
  for (const p of list) {
    // Other test files run alongside: a pid neither listing saw must be one that started meanwhile.
    const known = before.has(p.pid as number) || afterPids.has(p.pid as number);
    assert.ok(known || (p.start as number) >= Math.floor(startedAt) - 1, `pid ${String(p.pid)} was never in /proc`);
  }
  for (const [pid, start] of before) {
    if (afterPids.get(pid) === start) assert.ok(seen.has(pid), `pid ${pid} lived through the run but is missing`);
  }
  const init = list.find((p) => p.pid === 1);
  assert.ok(init);
  for (const key of ['ppid', 'user', 'state', 'name', 'cmd', 'threads', 'cpu', 'mem', 'rss', 'vsz', 'start', 'age', 'cgroup']) {
    assert.ok(key in init, `field ${key}`);
  }
});

test('ps --tree --filter "ppid==$$" shows the calling shell\'s children', async () => {
  const script = `sleep 30 & exec_marker=1; "${process.execPath}" "${cliPath}" ps --tree --filter "ppid==$$" -o pid,ppid,cmd; kill %1`;
  const res = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const sh = spawn('bash', ['-c', script], { env: { ...process.env, NO_COLOR: '1' } });
    let out = ''; let err = '';
    sh.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    sh.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    sh.on('close', (code) => resolve({ code, out, err }));
  });
  assert.equal(res.code, 0, res.err);
  const lines = res.out.trim().split('\n');
  assert.match(lines[0] ?? '', /^\s*PID\s+PPID\s+COMMAND$/);
  assert.ok(lines.some((l) => /\bsleep 30$/.test(l)), res.out);
  assert.ok(lines.some((l) => l.includes('ps --tree --filter')), 'opsctl itself is a child of the shell');
  const ppids = new Set(lines.slice(1).map((l) => l.trim().split(/\s+/)[1]));
  assert.equal(ppids.size, 1, 'every row has the same parent');
});

test('a bad filter is a coded error with a caret', async () => {
  const res = await runCli(['ps', '--filter', 'cpu > && user']);
  assert.equal(res.code, 64);
  assert.match(res.stderr, /OPS_ERR_EXPR_SYNTAX/);
  assert.match(res.stderr, /\^/);
  const unknown = await runCli(['ps', '--filter', 'cpuu > 5']);
  assert.equal(unknown.code, 64);
  assert.match(unknown.stderr, /OPS_ERR_EXPR_FIELD.*cpuu/s);
});

test('columns, sort, limit, csv and ndjson', async () => {
  const csv = await runCli(['ps', '--csv', '-o', 'pid,name,rss', '--sort', '-rss', '--limit', '3', '--no-sample']);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split('\r\n');
  assert.equal(rows[0], 'pid,name,rss');
  assert.equal(rows.length, 4);
  const rss = rows.slice(1).map((r) => Number(r.split(',').at(-1)));
  assert.deepEqual(rss, [...rss].sort((a, b) => b - a));
  const nd = await runCli(['ps', '--ndjson', '--filter', `pid == ${process.pid}`]);
  const lines = nd.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0] ?? '') as { pid: number }).pid, process.pid);
  const bad = await runCli(['ps', '-o', 'pid,nope']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /OPS_ERR_USAGE: unknown field "nope"; known fields: pid, ppid/);
});

test('filters on sizes, regexes and labels', async () => {
  const res = await runCli(['ps', '--json', '-o', 'pid,rss,cmd', '--filter', `rss > 1MiB && cmd ~ 'cli\\.ts' && pid != ${process.pid}`]);
  assert.equal(res.code, 0, res.stderr);
  const list = JSON.parse(res.stdout) as Array<{ pid: number; rss: number; cmd: string }>;
  assert.ok(list.length >= 1, 'opsctl itself matches');
  for (const p of list) {
    assert.ok(p.rss > 1024 * 1024);
    assert.match(p.cmd, /cli\.ts/);
  }
});

test('snapshot and snapshot diff see a process start and go', async () => {
  const a = join(tmp, 'a.json');
  const b = join(tmp, 'b.json');
  const first = await runCli(['snapshot', '-o', a, '--interval', '50ms']);
  assert.equal(first.code, 0, first.stderr);
  const sleeper = spawn('sleep', ['30']);
  try {
    const second = await runCli(['snapshot', '-o', b, '--interval', '50ms']);
    assert.equal(second.code, 0, second.stderr);
  } finally {
    sleeper.kill();
  }
  const diff = await runCli(['snapshot', 'diff', a, b, '--json']);
  assert.equal(diff.code, 0, diff.stderr);
  const d = JSON.parse(diff.stdout) as { started: Array<{ pid: number }>; gone: Array<{ pid: number }> };
  assert.ok(d.started.some((p) => p.pid === sleeper.pid), 'the sleeper started');
  const text = await runCli(['snapshot', 'diff', a, b]);
  assert.match(text.stdout, /^started \(\d+\):$/m);
  const garbage = await runCli(['snapshot', 'diff', a, cliPath]);
  assert.equal(garbage.code, 66);
  assert.match(garbage.stderr, /OPS_ERR_SNAPSHOT_READ: .*cli\.ts: not JSON/);
});
