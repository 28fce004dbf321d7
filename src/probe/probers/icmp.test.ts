// The icmp prober: the ping output parser on iputils fixtures, and real pings to 127.0.0.1 only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { icmp, pingArgs } from './icmp.ts';
import { parsePingOutput } from './ping-output.ts';
import type { ProbeLog } from '../types.ts';

const log: ProbeLog = { debug() {}, info() {} };

const allReplies = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.630 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.043 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.043 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 406ms
rtt min/avg/max/mdev = 0.043/0.238/0.630/0.276 ms
`;

const someLost = `PING 10.1.2.3 (10.1.2.3) 56(84) bytes of data.
64 bytes from 10.1.2.3: icmp_seq=1 ttl=61 time=12.4 ms
64 bytes from 10.1.2.3: icmp_seq=3 ttl=61 time=14.9 ms

--- 10.1.2.3 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms
rtt min/avg/max/mdev = 12.412/13.656/14.901/1.244 ms
`;

const allLost = `PING 10.1.2.3 (10.1.2.3) 56(84) bytes of data.

--- 10.1.2.3 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 2052ms

`;

const unreachable = `PING 10.1.2.3 (10.1.2.3) 56(84) bytes of data.
From 10.1.2.1 icmp_seq=1 Destination Host Unreachable
From 10.1.2.1 icmp_seq=2 Destination Host Unreachable
From 10.1.2.1 icmp_seq=3 Destination Host Unreachable

--- 10.1.2.3 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2031ms
pipe 3
`;

const duplicates = `PING 10.1.2.255 (10.1.2.255) 56(84) bytes of data.
64 bytes from 10.1.2.7: icmp_seq=1 ttl=64 time=0.511 ms
64 bytes from 10.1.2.8: icmp_seq=1 ttl=255 time=0.802 ms (DUP!)

--- 10.1.2.255 ping statistics ---
1 packets transmitted, 1 received, +1 duplicates, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.511/0.656/0.802/0.145 ms
`;

const ipv6 = `PING ::1(::1) 56 data bytes
64 bytes from ::1: icmp_seq=1 ttl=64 time=0.194 ms

--- ::1 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.194/0.194/0.194/0.000 ms
`;

test('parsePingOutput: every reply', () => {
  assert.deepEqual(parsePingOutput(allReplies), {
    transmitted: 3, received: 3, duplicates: 0, errors: 0, lossPercent: 0,
    rtt: { min: 0.043, avg: 0.238, max: 0.63, mdev: 0.276 }, ttl: 64,
  });
  assert.equal(parsePingOutput(ipv6)?.rtt?.avg, 0.194);
});

test('parsePingOutput: some loss, all lost, ICMP errors, duplicates', () => {
  assert.deepEqual(parsePingOutput(someLost), {
    transmitted: 3, received: 2, duplicates: 0, errors: 0, lossPercent: 33.3333,
    rtt: { min: 12.412, avg: 13.656, max: 14.901, mdev: 1.244 }, ttl: 61,
  });
  assert.deepEqual(parsePingOutput(allLost), { transmitted: 3, received: 0, duplicates: 0, errors: 0, lossPercent: 100 });
  assert.deepEqual(parsePingOutput(unreachable), { transmitted: 3, received: 0, duplicates: 0, errors: 3, lossPercent: 100 });
  const dup = parsePingOutput(duplicates);
  assert.equal(dup?.duplicates, 1);
  assert.equal(dup?.ttl, 255);
});

test('parsePingOutput: busybox summary, and no summary at all', () => {
  const busybox = '--- 127.0.0.1 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min/avg/max = 0.061/0.072/0.083 ms\n';
  assert.deepEqual(parsePingOutput(busybox)?.rtt, { min: 0.061, avg: 0.072, max: 0.083 });
  assert.equal(parsePingOutput('ping: invalid argument\n'), undefined);
  assert.equal(parsePingOutput(''), undefined);
});

test('pingArgs: flags from the module, reply wait from the timeout', () => {
  const module = icmp.schema.parse({ count: 2, interval: '500ms', size: '1KiB', ttl: 8, dont_fragment: true, source_ip_address: 'lo' });
  assert.deepEqual(pingArgs(module, '::1', 6, 5000), ['-n', '-6', '-c', '2', '-i', '0.5', '-s', '1024', '-W', '3.950', '-t', '8', '-M', 'do', '-I', 'lo', '::1']);
  const tight = icmp.schema.parse({ count: 10, interval: '1s' });
  assert.deepEqual(pingArgs(tight, '127.0.0.1', 4, 1000).slice(0, 10), ['-n', '-4', '-c', '10', '-i', '1', '-s', '56', '-W', '0.100']);
  assert.throws(() => icmp.schema.parse({ size: 70000 }), /at most 65507/);
  assert.throws(() => icmp.schema.parse({ interval: 'soon' }), /expected a duration/);
  assert.throws(() => icmp.schema.parse({ count: 0 }));
  assert.throws(() => icmp.schema.parse({ payload: 1 }));
});

test('pings 127.0.0.1 and reports loss, round trips and hop limit', async () => {
  const out = await icmp.probe({ target: '127.0.0.1', module: icmp.schema.parse({ count: 2, interval: '50ms' }), signal: AbortSignal.timeout(3000), timeoutMs: 3000, log });
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.sent, 2);
  assert.equal(out.details.received, 2);
  assert.equal(out.details.loss, 0);
  assert.equal(out.details.hop_limit, 64);
  const avg = out.details.rtt_avg as number;
  assert.ok(avg > 0 && avg < 0.1, `rtt_avg ${avg}s`);
  assert.ok((out.details.rtt_min as number) <= avg && avg <= (out.details.rtt_max as number));
  assert.ok((out.phases.setup ?? 0) > 0);
  const metrics = icmp.metrics({ ...out, target: '127.0.0.1', module: 'icmp', durationMs: 100, startedAt: Date.now() });
  const line = (name: string, labels?: Record<string, string>) => metrics.find((m) => m.name === name && JSON.stringify(m.labels) === JSON.stringify(labels))?.value;
  assert.equal(line('probe_icmp_packet_loss_ratio'), 0);
  assert.equal(line('probe_icmp_rtt_seconds', { stat: 'avg' }), avg);
  assert.equal(line('probe_icmp_duration_seconds', { phase: 'rtt' }), avg);
  assert.equal(line('probe_icmp_reply_hop_limit'), 64);
  assert.equal(line('probe_ip_protocol'), 4);
});

test('a probe cut short by its timeout stops ping and fails', async () => {
  const started = performance.now();
  const out = await icmp.probe({ target: '127.0.0.1', module: icmp.schema.parse({ count: 5, interval: '1s' }), signal: AbortSignal.timeout(300), timeoutMs: 300, log });
  assert.ok(performance.now() - started < 1500, 'ping was not stopped');
  assert.equal(out.success, false);
  assert.equal(out.reason, 'timed out waiting for ping (1 of 1 replies so far)');
  assert.equal(out.details.received, 1);
});

test('unresolvable names, ping errors and a missing ping are failures with reasons', async () => {
  const module = icmp.schema.parse({ count: 1 });
  const probe = (target: string, m = module) => icmp.probe({ target, module: m, signal: AbortSignal.timeout(3000), timeoutMs: 3000, log });
  assert.match((await probe('nothing-here.invalid')).reason ?? '', /^resolve nothing-here\.invalid: /);
  const badIf = await probe('127.0.0.1', icmp.schema.parse({ count: 1, source_ip_address: 'nosuchif0' }));
  assert.equal(badIf.success, false);
  assert.match(badIf.reason ?? '', /^ping: .*nosuchif0/);
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    assert.match((await probe('127.0.0.1')).reason ?? '', /^ping not found in PATH/);
  } finally {
    process.env.PATH = path;
  }
});
