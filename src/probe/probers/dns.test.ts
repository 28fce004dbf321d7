// The dns prober against a small DNS responder on 127.0.0.1 (UDP and TCP), written with dns-packet.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { decode, encode, streamEncode, type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { dns } from './dns.ts';
import { rrText } from './dns-records.ts';
import type { ProbeLog, ProbeResult } from '../types.ts';

const log: ProbeLog = { debug() {}, info() {} };
const soa: Answer = { type: 'SOA', name: 'example.com', ttl: 3600, data: { mname: 'ns.example.com', rname: 'noc.example.com', serial: 2024010101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 } };
const records: Record<string, Answer[]> = {
  'example.com/A': [{ type: 'A', name: 'example.com', ttl: 300, data: '127.0.0.1' }, { type: 'A', name: 'example.com', ttl: 300, data: '127.0.0.2' }],
  'example.com/MX': [{ type: 'MX', name: 'example.com', ttl: 300, data: { preference: 10, exchange: 'mail.example.com' } }],
  'example.com/TXT': [{ type: 'TXT', name: 'example.com', ttl: 300, data: ['v=spf1 -all', 'say "hi"'] }],
  'example.com/SOA': [soa],
  '_sip._tcp.example.com/SRV': [{ type: 'SRV', name: '_sip._tcp.example.com', ttl: 60, data: { priority: 10, weight: 5, port: 5060, target: 'sip.example.com' } }],
};
/** Queries seen, to check the flags the prober sent. */
const seen: DecodedPacket[] = [];

/** The responder: known records, NXDOMAIN with the SOA, SERVFAIL, or silence. */
function respond(query: DecodedPacket): Packet | undefined {
  seen.push(query);
  const q = query.questions?.[0];
  const name = q?.name ?? '';
  const base = { type: 'response' as const, id: query.id, questions: query.questions };
  if (name === 'silent.example.com') return undefined;
  if (name === 'fail.example.com') return { ...base, flags: 2 };
  const answers = records[`${name}/${q?.type ?? ''}`];
  if (answers === undefined) return { ...base, flags: 3, authorities: [soa] };
  return { ...base, flags: 0x400, answers, additionals: q?.type === 'MX' ? [{ type: 'A', name: 'mail.example.com', ttl: 300, data: '127.0.0.3' }] : [] };
}

const udp = createSocket('udp4');
const tcpServer = createServer((socket) => serveTcp(socket));
const tcpClients = new Set<Socket>();
let udpPort = 0;
let tcpPort = 0;

function serveTcp(socket: Socket): void {
  tcpClients.add(socket);
  socket.on('close', () => tcpClients.delete(socket));
  socket.on('data', (data) => {
    const reply = respond(decode(data.subarray(2)));
    if (reply) socket.write(streamEncode(reply));
  });
}

before(async () => {
  udp.on('message', (msg, from) => {
    const reply = respond(decode(msg));
    if (reply) udp.send(encode(reply), from.port, from.address);
  });
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  udpPort = udp.address().port;
  tcpServer.listen(0, '127.0.0.1');
  await once(tcpServer, 'listening');
  tcpPort = (tcpServer.address() as AddressInfo).port;
});

after(async () => {
  udp.close();
  for (const s of tcpClients) s.destroy();
  await new Promise((r) => tcpServer.close(r));
});

async function probe(module: Record<string, unknown>, options: { port?: number; signal?: AbortSignal } = {}) {
  return dns.probe({ target: `127.0.0.1:${options.port ?? udpPort}`, module: dns.schema.parse(module), signal: options.signal ?? AbortSignal.timeout(2000), timeoutMs: 2000, log });
}

const asResult = (o: Awaited<ReturnType<typeof probe>>): ProbeResult => ({ ...o, target: 't', module: 'm', durationMs: 1, startedAt: 0 });

test('A over UDP: rcode, answers, counts, metrics', async () => {
  const out = await probe({ query_name: 'example.com' });
  assert.equal(out.success, true, out.reason);
  assert.equal(out.details.rcode, 'NOERROR');
  assert.deepEqual(out.details.answers, ['127.0.0.1', '127.0.0.2']);
  assert.equal(out.details.answer, '127.0.0.1');
  assert.deepEqual([out.details.answer_rrs, out.details.authority_rrs, out.details.additional_rrs], [2, 0, 0]);
  assert.equal(seen.at(-1)?.flag_rd, true);
  const m = dns.metrics(asResult(out));
  const value = (name: string, phase?: string) => m.find((s) => s.name === name && s.labels?.phase === phase)?.value;
  assert.equal(value('probe_dns_answer_rrs'), 2);
  assert.equal(value('probe_dns_query_succeeded'), 1);
  assert.equal(value('probe_ip_protocol'), 4);
  assert.ok((value('probe_dns_duration_seconds', 'request') ?? 0) > 0);
  assert.equal(value('probe_dns_serial'), undefined);
});

test('MX, TXT, SOA and SRV as dig prints them, over UDP and TCP', async () => {
  for (const transport_protocol of ['udp', 'tcp']) {
    const port = transport_protocol === 'udp' ? udpPort : tcpPort;
    const mx = await probe({ query_name: 'example.com', query_type: 'MX', transport_protocol }, { port });
    assert.deepEqual(mx.details.answers, ['10 mail.example.com.'], transport_protocol);
    assert.equal(mx.details.additional_rrs, 1);
    const txt = await probe({ query_name: 'example.com', query_type: 'TXT', transport_protocol }, { port });
    assert.deepEqual(txt.details.answers, ['"v=spf1 -all" "say \\"hi\\""']);
    const soaOut = await probe({ query_name: 'example.com', query_type: 'SOA', transport_protocol }, { port });
    assert.deepEqual(soaOut.details.answers, ['ns.example.com. noc.example.com. 2024010101 7200 3600 1209600 300']);
    assert.equal(dns.metrics(asResult(soaOut)).find((s) => s.name === 'probe_dns_serial')?.value, 2024010101);
    const srv = await probe({ query_name: '_sip._tcp.example.com', query_type: 'SRV', transport_protocol }, { port });
    assert.deepEqual(srv.details.answers, ['10 5 5060 sip.example.com.']);
    assert.equal(srv.success, true, srv.reason);
  }
});

test('NXDOMAIN and SERVFAIL fail unless listed in valid_rcodes', async () => {
  const nx = await probe({ query_name: 'missing.example.com' });
  assert.equal(nx.success, false);
  assert.equal(nx.reason, 'rcode NXDOMAIN not in [NOERROR]');
  assert.equal(nx.details.authority_rrs, 1);
  assert.equal(dns.metrics(asResult(nx)).find((s) => s.name === 'probe_dns_query_succeeded')?.value, 1);
  const allowed = await probe({ query_name: 'missing.example.com', valid_rcodes: ['NOERROR', 'NXDOMAIN'], validate_authority_rrs: { fail_if_not_matches_regexp: ['\\tSOA\\t'] } });
  assert.equal(allowed.success, true, allowed.reason);
  const servfail = await probe({ query_name: 'fail.example.com' });
  assert.equal(servfail.reason, 'rcode SERVFAIL not in [NOERROR]');
  assert.equal(servfail.details.rcode, 'SERVFAIL');
});

test('validate_answer_rrs: each of the four checks, on whole records', async () => {
  const check = async (v: Record<string, string[]>) => (await probe({ query_name: 'example.com', validate_answer_rrs: v })).reason;
  assert.equal(await check({ fail_if_matches_regexp: ['127\\.0\\.0\\.2$'] }), 'answer record "example.com.\\t300\\tIN\\tA\\t127.0.0.2" matches /127\\.0\\.0\\.2$/');
  assert.equal(await check({ fail_if_not_matches_regexp: ['^example\\.com\\.\\t\\d+\\tIN\\tA\\t127\\.0\\.0\\.\\d$'] }), undefined);
  assert.equal(await check({ fail_if_not_matches_regexp: ['127\\.0\\.0\\.1$'] }), 'answer record "example.com.\\t300\\tIN\\tA\\t127.0.0.2" does not match /127\\.0\\.0\\.1$/');
  assert.equal(await check({ fail_if_all_match_regexp: ['\\tA\\t'] }), 'every answer record matches /\\tA\\t/');
  assert.equal(await check({ fail_if_all_match_regexp: ['127\\.0\\.0\\.1$'] }), undefined);
  assert.equal(await check({ fail_if_none_matches_regexp: ['10\\.0\\.0\\.1$'] }), 'no answer record matches /10\\.0\\.0\\.1$/');
  assert.equal(await check({ fail_if_none_matches_regexp: ['127\\.0\\.0\\.2$'] }), undefined);
  const none = await probe({ query_name: 'missing.example.com', valid_rcodes: ['NXDOMAIN'], validate_answer_rrs: { fail_if_not_matches_regexp: ['.'] } });
  assert.equal(none.reason, 'no answer record to match /./');
});

test('recursion_desired = false clears the RD flag', async () => {
  await probe({ query_name: 'example.com', recursion_desired: false });
  assert.equal(seen.at(-1)?.flag_rd, false);
});

test('a server that never answers: the probe ends when the signal aborts', async () => {
  for (const [transport_protocol, port] of [['udp', udpPort], ['tcp', tcpPort]] as const) {
    const started = performance.now();
    const out = await probe({ query_name: 'silent.example.com', transport_protocol }, { port, signal: AbortSignal.timeout(200) });
    assert.ok(performance.now() - started < 1000);
    assert.equal(out.success, false);
    assert.equal(out.reason, `timed out waiting for a response from 127.0.0.1:${port} (${transport_protocol})`);
    assert.equal(dns.metrics(asResult(out)).find((s) => s.name === 'probe_dns_query_succeeded')?.value, 0);
  }
});

test('a closed port is refused, over UDP and TCP', async () => {
  const closed = createSocket('udp4');
  closed.bind(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = closed.address().port;
  await new Promise<void>((r) => closed.close(() => r()));
  const viaUdp = await probe({ query_name: 'example.com' }, { port });
  assert.equal(viaUdp.reason, `query 127.0.0.1:${port} (udp): connection refused`);
  const viaTcp = await probe({ query_name: 'example.com', transport_protocol: 'tcp' }, { port });
  assert.equal(viaTcp.reason, `query 127.0.0.1:${port} (tcp): connection refused`);
});

test('config: query_name is required, types and rcodes are checked', () => {
  assert.throws(() => dns.schema.parse({}));
  assert.throws(() => dns.schema.parse({ query_name: 'x', query_type: 'AXFR' }));
  assert.throws(() => dns.schema.parse({ query_name: 'x', valid_rcodes: ['NOPE'] }));
  assert.throws(() => dns.schema.parse({ query_name: 'x', validate_answer_rrs: { fail_if_matches_regexp: ['('] } }), /invalid regular expression/);
  assert.throws(() => dns.schema.parse({ query_name: 'x', validate_answer_rrs: { fail_if_matches: ['x'] } }));
  assert.equal(rrText({ type: 'NS', name: '', ttl: 1, data: 'a.root-servers.net' }), '.\t1\tIN\tNS\ta.root-servers.net.');
});
