import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Correlator, type TickInput } from './correlate.ts';
import type { OomEvent } from './event.ts';
import type { OomKmsgInfo } from './parse.ts';

const time = new Date('2025-01-02T03:04:05.000Z');
const tick = (c: Correlator, input: Partial<TickInput>): OomEvent[] => c.tick({ time, system: 0, cgroups: [], kmsg: [], ...input });
const summary = (pid: number, cgroup: string): OomKmsgInfo => ({ pid, name: `p${pid}`, uid: 0, cgroup, oomCgroup: cgroup, constraint: 'memcg' });
const killed = (pid: number): OomKmsgInfo => ({ pid, name: `p${pid}`, uid: 0, constraint: 'memcg', rssBytes: 1024, totalVmBytes: 4096 });

test('a cgroup kill and its two log lines in one tick are one event', () => {
  const c = new Correlator({ kmsg: true });
  const events = tick(c, { system: 1, cgroups: [{ cgroup: '/app', kills: 1 }], kmsg: [summary(42, '/app'), killed(42)] });
  assert.deepEqual(events, [{
    time: time.toISOString(), scope: 'cgroup', cgroup: '/app', pid: 42, name: 'p42', uid: 0,
    constraint: 'memcg', oomCgroup: '/app', rssBytes: 1024, sources: ['cgroup', 'vmstat', 'kmsg'],
  }]);
  assert.deepEqual(tick(c, { kmsg: [killed(42)] }), [], 'a late line of a reported kill is not a new one');
  assert.deepEqual(tick(c, {}), []);
  assert.equal(c.pending, 0);
});

test('a cgroup kill waits one tick for its victim, then fires without one', () => {
  const c = new Correlator({ kmsg: true });
  assert.deepEqual(tick(c, { system: 1, cgroups: [{ cgroup: '/a', kills: 1 }] }), []);
  const late = tick(c, { kmsg: [killed(7)] });
  assert.equal(late.length, 1);
  assert.equal(late[0]?.pid, 7, 'a victim whose line did not say its cgroup fits any cgroup kill');
  assert.equal(late[0]?.cgroup, '/a');

  assert.deepEqual(tick(c, { system: 1, cgroups: [{ cgroup: '/b', kills: 1 }] }), []);
  const unknown = tick(c, {});
  assert.deepEqual(unknown, [{ time: time.toISOString(), scope: 'cgroup', cgroup: '/b', sources: ['cgroup', 'vmstat'] }]);
});

test('without a kernel log, counter kills fire at once', () => {
  const c = new Correlator({ kmsg: false });
  const events = tick(c, { system: 2, cgroups: [{ cgroup: '/a', kills: 2 }] });
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.cgroup === '/a' && e.scope === 'cgroup' && e.pid === undefined));
  assert.deepEqual(tick(c, {}), []);
});

test('victims go to the cgroup their log line names', () => {
  const c = new Correlator({ kmsg: true });
  const events = tick(c, {
    system: 2, cgroups: [{ cgroup: '/a', kills: 1 }, { cgroup: '/b', kills: 1 }], kmsg: [summary(2, '/b'), summary(1, '/a')],
  });
  assert.deepEqual(events.map((e) => [e.cgroup, e.pid]), [['/a', 1], ['/b', 2]]);
});

test('a kill no cgroup counter saw fires one tick later from vmstat, with its victim', () => {
  const c = new Correlator({ kmsg: true });
  assert.deepEqual(tick(c, { system: 1, kmsg: [{ pid: 9, name: 'big', constraint: 'none', cgroup: '/' }] }), []);
  const events = tick(c, {});
  assert.deepEqual(events, [{ time: time.toISOString(), scope: 'system', cgroup: '/', pid: 9, name: 'big', constraint: 'none', sources: ['vmstat', 'kmsg'] }]);
  assert.deepEqual(tick(c, { system: 1 }), []);
  assert.deepEqual(tick(c, {}), [{ time: time.toISOString(), scope: 'system', sources: ['vmstat'] }]);
});

test('a kill seen by vmstat and its cgroup in different ticks is reported once, whichever comes first', () => {
  for (const order of [[{ system: 1 }, { system: 0, cgroups: [{ cgroup: '/a', kills: 1 }] }], [{ system: 0, cgroups: [{ cgroup: '/a', kills: 1 }] }, { system: 1 }]]) {
    const c = new Correlator({ kmsg: false });
    const events = [...order, {}, {}].flatMap((input) => tick(c, input));
    assert.deepEqual(events.map((e) => [e.scope, e.cgroup]), [['cgroup', '/a']], JSON.stringify(order));
  }
});

test('kills in the v1 root cgroup are system-scoped; many kills are many events', () => {
  const c = new Correlator({ kmsg: false });
  const events = tick(c, { system: 3, cgroups: [{ cgroup: '/', kills: 1 }, { cgroup: '/x', kills: 2 }] });
  assert.deepEqual(events.map((e) => e.scope), ['system', 'cgroup', 'cgroup']);
  assert.deepEqual(tick(c, {}), []);
});

test('without vmstat, a victim no counter claims is a kill of its own; with vmstat it is dropped', () => {
  const without = new Correlator({ kmsg: true });
  assert.deepEqual(tick(without, { system: undefined, kmsg: [summary(5, '/gone')] }), []);
  assert.deepEqual(tick(without, { system: undefined }).map((e) => [e.pid, e.cgroup, e.sources.join()]), [[5, '/gone', 'kmsg']]);
  const withVmstat = new Correlator({ kmsg: true });
  assert.deepEqual(tick(withVmstat, { kmsg: [summary(5, '/gone')] }), []);
  assert.deepEqual(tick(withVmstat, {}), [], 'its kill was counted before the baseline');
  assert.deepEqual(tick(withVmstat, {}), []);
});
