import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { isOpsError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { Registry } from '../../core/metrics.ts';
import type { OomEvent } from './event.ts';
import { OomWatcher, type OomWatcherOptions } from './watcher.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-oom-watcher-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake host: procfs, sysfs and a kernel log file under one directory, with counters to bump. */
class FakeHost {
  readonly root: string;
  readonly procfs: string;
  readonly sysfs: string;
  readonly kmsg: string;
  readonly version: 'v1' | 'v2';
  #vmstat = 0;
  #seq = 1000;
  readonly #cgroups = new Map<string, number>();

  constructor(name: string, version: 'v1' | 'v2', cgroups: string[]) {
    this.root = join(tmp, name);
    this.procfs = join(this.root, 'proc');
    this.sysfs = join(this.root, 'sys');
    this.kmsg = join(this.root, 'kmsg');
    this.version = version;
    this.#write('proc/vmstat', this.#vmstatText());
    this.#write('kmsg', '6,1,1,-;Linux version 6.18.0\n');
    if (version === 'v1') {
      this.#write('sys/fs/cgroup/unified/cgroup.controllers', '');
      this.#write('sys/fs/cgroup/cpu/cpu.shares', '1024\n');
    } else {
      this.#write('sys/fs/cgroup/cgroup.controllers', 'cpu io memory pids\n');
    }
    for (const cg of cgroups) this.addCgroup(cg);
  }

  get mount(): string {
    return join(this.sysfs, this.version === 'v1' ? 'fs/cgroup/memory' : 'fs/cgroup');
  }

  addCgroup(cgroup: string, kills = 0): void {
    this.#cgroups.set(cgroup, kills);
    this.#writeCgroup(cgroup);
  }

  removeCgroup(cgroup: string): void {
    this.#cgroups.delete(cgroup);
    rmSync(join(this.mount, cgroup), { recursive: true, force: true });
  }

  /** One OOM kill in `cgroup` (undefined: outside any cgroup), as the kernel would count and log it. */
  kill(cgroup: string | undefined, victim?: { pid: number; name: string }): void {
    if (victim) {
      const where = cgroup ?? '/';
      this.#log(`oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=${where},task_memcg=${where},task=${victim.name},pid=${victim.pid},uid=0`);
    }
    if (cgroup !== undefined) {
      this.#cgroups.set(cgroup, (this.#cgroups.get(cgroup) ?? 0) + 1);
      this.#writeCgroup(cgroup);
    }
    this.#vmstat++;
    this.#write('proc/vmstat', this.#vmstatText());
    if (victim) {
      this.#log(`Memory cgroup out of memory: Killed process ${victim.pid} (${victim.name}) total-vm:100kB, anon-rss:2048kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`);
    }
  }

  #log(message: string): void {
    appendFileSync(this.kmsg, `3,${this.#seq++},${Date.now() * 1000},-;${message}\n SUBSYSTEM=memory\n`);
  }

  #writeCgroup(cgroup: string): void {
    const kills = this.#cgroups.get(cgroup) ?? 0;
    const dir = join(this.mount, cgroup);
    if (this.version === 'v1') {
      this.#write(join(dir, 'memory.oom_control'), `oom_kill_disable 0\nunder_oom 0\noom_kill ${kills}\n`, true);
    } else {
      this.#write(join(dir, 'memory.events'), `low 0\nhigh 0\nmax 9\noom 1\noom_kill ${kills}\n`, true);
      this.#write(join(dir, 'memory.events.local'), `low 0\nhigh 0\nmax 9\noom 1\noom_kill ${kills}\n`, true);
    }
  }

  #vmstatText(): string {
    return `nr_free_pages 5947\noom_kill ${this.#vmstat}\npgfault 17305\n`;
  }

  #write(path: string, text: string, absolute = false): void {
    const full = absolute ? path : join(this.root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

function watcher(host: FakeHost, options: Partial<OomWatcherOptions> = {}): { w: OomWatcher; registry: Registry; events: OomEvent[] } {
  const registry = new Registry();
  const events: OomEvent[] = [];
  const w = new OomWatcher({
    log: silentLogger(), registry, procfs: host.procfs, sysfs: host.sysfs, kmsgPath: host.kmsg,
    intervalMs: 60_000, onEvent: (e) => { events.push(e); }, ...options,
  });
  return { w, registry, events };
}

async function value(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('v1: a kill in a cgroup is one event naming the victim, counted in metrics', async (t) => {
  const host = new FakeHost('v1', 'v1', ['/', '/system.slice', '/system.slice/app.service']);
  host.kill('/system.slice', { pid: 1, name: 'before-start' });
  const { w, registry, events } = watcher(host);
  t.after(() => w.stop());
  await w.start();
  assert.deepEqual(w.status, {
    vmstat: true, cgroups: { version: 'v1', mount: host.mount, count: 3 }, kmsg: { path: host.kmsg },
  });
  assert.deepEqual(await w.poll(), [], 'kills before start are the baseline');

  host.kill('/system.slice/app.service', { pid: 4242, name: 'stress ng' });
  const [event, ...rest] = await w.poll();
  assert.deepEqual(rest, []);
  assert.ok(event);
  assert.deepEqual({ ...event, time: 'T' }, {
    time: 'T', scope: 'cgroup', cgroup: '/system.slice/app.service', pid: 4242, name: 'stress ng', uid: 0,
    constraint: 'memcg', oomCgroup: '/system.slice/app.service', rssBytes: 2048 * 1024, sources: ['cgroup', 'vmstat', 'kmsg'],
  });
  assert.deepEqual(events, [event]);
  assert.deepEqual(await w.poll(), [], 'vmstat does not report the same kill again');
  assert.deepEqual(await w.poll(), []);

  assert.equal(await value(registry, 'opsctl_oom_kills_total{scope="cgroup"}'), 1);
  assert.equal(await value(registry, 'opsctl_oom_kills_total{scope="system"}'), 0);
  assert.equal(await value(registry, 'opsctl_oom_watched_cgroups'), 3);
  const last = await value(registry, 'opsctl_oom_last_kill_timestamp_seconds');
  assert.ok(last !== undefined && Math.abs(last - Date.now() / 1000) < 60);
  for (const source of ['vmstat', 'cgroup', 'kmsg']) assert.equal(await value(registry, `opsctl_oom_watch_errors_total{source="${source}"}`), 0, source);
});

test('v2 without the kernel log: counter kills fire at once, root-cgroup kills a tick later', async (t) => {
  const host = new FakeHost('v2', 'v2', ['/kubepods', '/kubepods/pod1']);
  const { w, registry, events } = watcher(host, { kmsgPath: false });
  t.after(() => w.stop());
  await w.start();
  assert.deepEqual(w.status.kmsg, false);
  host.kill('/kubepods/pod1');
  host.kill('/kubepods/pod1');
  assert.deepEqual((await w.poll()).map((e) => [e.scope, e.cgroup, e.pid]), [['cgroup', '/kubepods/pod1', undefined], ['cgroup', '/kubepods/pod1', undefined]]);
  host.kill(undefined);
  assert.deepEqual(await w.poll(), []);
  assert.deepEqual((await w.poll()).map((e) => [e.scope, e.cgroup, e.sources.join()]), [['system', undefined, 'vmstat']]);
  assert.equal(events.length, 3);
  assert.equal(await value(registry, 'opsctl_oom_kills_total{scope="system"}'), 1);
  assert.equal(await value(registry, 'opsctl_oom_kills_total{scope="cgroup"}'), 2);
});

test('cgroups come and go between scans: the gone are skipped, the new count from zero', async (t) => {
  const host = new FakeHost('churn', 'v1', ['/', '/a', '/b']);
  const { w, registry } = watcher(host, { kmsgPath: false });
  t.after(() => w.stop());
  await w.start();
  host.removeCgroup('/a');
  host.addCgroup('/c', 0);
  host.kill('/c');
  const events = await w.poll();
  assert.deepEqual(events.map((e) => e.cgroup), ['/c']);
  assert.equal(w.status.cgroups?.count, 3);
  assert.deepEqual(await w.poll(), []);
  assert.equal(await value(registry, 'opsctl_oom_watch_errors_total{source="cgroup"}'), 0);
});

test('the background loop reports kills and posts them to a webhook that fails twice', async (t) => {
  const bodies: unknown[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => {
      bodies.push(JSON.parse(text));
      const status = bodies.length <= 2 ? 503 : 200;
      statuses.push(status);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oom`;

  const host = new FakeHost('loop', 'v1', ['/', '/db']);
  const { w, registry, events } = watcher(host, { intervalMs: 20, webhook: { url, baseDelayMs: 10 } });
  t.after(() => w.stop());
  await w.start();
  host.kill('/db', { pid: 777, name: 'postgres' });
  await until('the event', () => events.length === 1);
  await until('the webhook delivery', () => statuses.includes(200));
  // The server has answered; the sender counts the delivery once it has read that answer.
  let delivered: number | undefined = 0;
  const deadline = performance.now() + 5000;
  while (delivered !== 1 && performance.now() < deadline) {
    await sleep(10);
    delivered = await value(registry, 'opsctl_oom_webhook_deliveries_total{result="delivered"}');
  }
  assert.deepEqual(statuses, [503, 503, 200]);
  const body = bodies[2] as OomEvent & { host: string };
  assert.equal(body.pid, 777);
  assert.equal(body.cgroup, '/db');
  assert.equal(typeof body.host, 'string');
  assert.deepEqual(bodies[0], bodies[2], 'every attempt posts the same body');
  assert.equal(await value(registry, 'opsctl_oom_watch_errors_total{source="webhook"}'), 2);
  assert.equal(delivered, 1);
  await sleep(100);
  assert.equal(events.length, 1, 'one kill, one event');
});

test('the AbortSignal stops the loop; stop() is safe to call after it', async () => {
  const host = new FakeHost('abort', 'v1', ['/']);
  const controller = new AbortController();
  const { w, events } = watcher(host, { intervalMs: 10, signal: controller.signal, kmsgPath: false });
  await w.start();
  controller.abort();
  await sleep(30);
  host.kill('/');
  await sleep(50);
  assert.deepEqual(events, []);
  await w.stop();
  await w.stop();
});

test('nothing to watch is OPS_ERR_PROCFS; a missing kernel log is not', async (t) => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  const bare = new OomWatcher({ log: silentLogger(), registry: new Registry(), procfs: empty, sysfs: empty, kmsgPath: join(empty, 'kmsg'), intervalMs: 1000 });
  await assert.rejects(bare.start(), (err) => isOpsError(err, 'OPS_ERR_PROCFS') && /nothing to watch/.test(err.message));
  const host = new FakeHost('no-kmsg', 'v1', ['/']);
  const { w } = watcher(host, { kmsgPath: join(empty, 'kmsg') });
  t.after(() => w.stop());
  await w.start();
  assert.deepEqual(w.status.kmsg, { path: join(empty, 'kmsg'), error: 'ENOENT' });
});
