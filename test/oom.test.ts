// End to end: a real OOM kill in a real memory cgroup, seen by `opsctl oom watch --json` with its
// victim, its cgroup, a webhook delivery and the kill counter on /metrics. Needs root and a writable
// memory cgroup (v1 or v2); skipped otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { collect, startCli, waitForLine } from './helpers/cli.ts';

interface TestCgroup { version: 'v1' | 'v2'; dir: string; path: string }

const limit = 32 * 1024 * 1024;

/** Candidate parents for a test cgroup: our own memory cgroup first, then the hierarchy's root. */
function candidates(): Array<{ version: 'v1' | 'v2'; mount: string; path: string }> {
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const out: Array<{ version: 'v1' | 'v2'; mount: string; path: string }> = [];
  const v1 = own.map((l) => /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/.exec(l)?.[1]).find((p) => p !== undefined);
  if (v1 !== undefined && existsSync('/sys/fs/cgroup/memory/memory.oom_control')) {
    out.push({ version: 'v1', mount: '/sys/fs/cgroup/memory', path: v1 }, { version: 'v1', mount: '/sys/fs/cgroup/memory', path: '/' });
  }
  const v2 = own.map((l) => /^0::(.*)$/.exec(l)?.[1]).find((p) => p !== undefined);
  for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const controllers = existsSync(`${mount}/cgroup.controllers`) ? readFileSync(`${mount}/cgroup.controllers`, 'utf8') : '';
    if (!controllers.split(/\s+/).includes('memory')) continue;
    if (v2 !== undefined) out.push({ version: 'v2', mount, path: v2 });
    out.push({ version: 'v2', mount, path: '/' });
  }
  return out;
}

/** Creates a child cgroup with a 32 MiB limit and no swap where we may; undefined (with why) where we may not. */
function createCgroup(): TestCgroup | string {
  const reasons: string[] = [];
  for (const c of candidates()) {
    const parent = c.path === '/' ? c.mount : c.mount + c.path;
    if (c.version === 'v2' && !readFileSync(`${parent}/cgroup.subtree_control`, 'utf8').split(/\s+/).includes('memory')) {
      reasons.push(`${parent}: memory not in cgroup.subtree_control`);
      continue;
    }
    const name = `opsctl-oom-e2e-${process.pid}`;
    const dir = `${parent}/${name}`;
    try {
      mkdirSync(dir);
    } catch (err) {
      reasons.push(`${parent}: ${(err as Error).message}`);
      continue;
    }
    try {
      if (c.version === 'v1') {
        writeFileSync(`${dir}/memory.limit_in_bytes`, String(limit));
        if (existsSync(`${dir}/memory.memsw.limit_in_bytes`)) writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(limit));
        try { writeFileSync(`${dir}/memory.swappiness`, '0'); } catch { /* not settable under some parents */ }
      } else {
        writeFileSync(`${dir}/memory.max`, String(limit));
        if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0');
      }
    } catch (err) {
      rmdirSync(dir);
      reasons.push(`${dir}: ${(err as Error).message}`);
      continue;
    }
    return { version: c.version, dir, path: `${c.path === '/' ? '' : c.path}/${name}` };
  }
  return reasons.length > 0 ? reasons.join('; ') : 'no memory cgroup hierarchy';
}

async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      // Anything still inside goes back to the parent first.
      for (const pid of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
        try { writeFileSync(`${dir}/../cgroup.procs`, pid); } catch { /* it exited */ }
      }
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await sleep(100);
    }
  }
  rmdirSync(dir);
}

function kmsgReadable(): boolean {
  try {
    closeSync(openSync('/dev/kmsg', 'r'));
    return true;
  } catch {
    return false;
  }
}

test('a real OOM kill in a memory cgroup is reported once, with its victim, cgroup, webhook and metric', { timeout: 90_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to create a memory cgroup');
  const cg = createCgroup();
  if (typeof cg === 'string') return t.skip(`no writable memory cgroup: ${cg}`);
  t.after(() => removeCgroup(cg.dir));

  const hooks: Array<Record<string, unknown>> = [];
  const receiver = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => {
      hooks.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => { receiver.closeAllConnections(); receiver.close(); });
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const watch = startCli(['oom', 'watch', '--json', '--interval', '200ms', '--webhook', webhook, '--listen', '127.0.0.1:0']);
  const done = collect(watch, 80_000);
  let stdout = '';
  watch.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  const events = (): Array<Record<string, unknown>> => stdout.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.cgroup === cg.path);
  try {
    const listening = JSON.parse(await waitForLine(watch, /"msg":"listening"/)) as { address: string };
    const started = await waitForLine(watch, /^opsctl oom watch: watching/);
    assert.match(started, new RegExp(`memory cgroups \\(${cg.version}`));

    // The hog joins the cgroup, then becomes node allocating and touching memory past the limit.
    const hog = spawn('sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs && exec "$0" -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))"`, process.execPath], { stdio: 'ignore' });
    const guard = setTimeout(() => hog.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => hog.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(guard);
    assert.equal(signal, 'SIGKILL', `the hog was OOM-killed (exit code ${String(code)})`);

    const deadline = performance.now() + 10_000;
    while (events().length === 0 && performance.now() < deadline) await sleep(50);
    const [event] = events();
    assert.ok(event, `an event for ${cg.path}; stdout:\n${stdout}`);
    assert.equal(event.scope, 'cgroup');
    assert.ok((event.sources as string[]).includes('cgroup'));
    if (kmsgReadable()) {
      assert.equal(event.pid, hog.pid, 'the victim named from /dev/kmsg is the hog');
      assert.equal(typeof event.name, 'string');
      assert.equal(event.constraint, 'memcg');
      assert.equal(event.oomCgroup, cg.path);
    }
    await sleep(1000);
    assert.equal(events().length, 1, 'vmstat and the cgroup counter saw the kill: still one event');

    while (!hooks.some((h) => h.cgroup === cg.path) && performance.now() < deadline + 5000) await sleep(50);
    const hook = hooks.find((h) => h.cgroup === cg.path);
    assert.ok(hook, 'the webhook received the event');
    assert.equal(hook.pid, event.pid);
    assert.equal(typeof hook.host, 'string');

    const metrics = await (await fetch(`http://${listening.address}/metrics`)).text();
    const kills = /^opsctl_oom_kills_total\{scope="cgroup"\} (\d+)$/m.exec(metrics);
    assert.ok(kills && Number(kills[1]) >= 1, 'the kill is counted');
  } finally {
    watch.kill('SIGTERM');
  }
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
});
