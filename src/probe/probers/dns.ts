// The dns prober: one query to a DNS server over UDP or TCP, judged on its rcode and records as
// blackbox_exporter's dns prober judges them.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { decode, encode, RECURSION_DESIRED, streamEncode, type DecodedPacket, type RecordType } from 'dns-packet';
import { z } from 'zod';
import { checkRecords, rdataText, rrText, rrValidator } from './dns-records.ts';
import { abortedReason, gauge, ipProtocol, netErrorReason, resolveHost, resolveMetrics, splitHostPort, type Resolved } from './network.ts';
import type { MetricSample, ProbeOutcome, Prober } from '../types.ts';

const queryTypes = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SOA', 'SRV', 'PTR', 'CAA'] as const satisfies readonly RecordType[];
const rcodes = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'] as const;

const schema = z.strictObject({
  query_name: z.string().min(1),
  query_type: z.enum(queryTypes).default('A'),
  query_class: z.enum(['IN', 'CH']).default('IN'),
  transport_protocol: z.enum(['udp', 'tcp']).default('udp'),
  recursion_desired: z.boolean().default(true),
  /** The probe fails on any other rcode. */
  valid_rcodes: z.array(z.enum(rcodes)).min(1).default(['NOERROR']),
  validate_answer_rrs: rrValidator,
  validate_authority_rrs: rrValidator,
  validate_additional_rrs: rrValidator,
  ip_protocol: ipProtocol,
});
type DnsModule = z.output<typeof schema>;

/**
 * Target: the server, "host[:port]" (port 53 by default). Details: `rcode` ("NOERROR"...),
 * `answers` (record data as dig prints it: "127.0.0.1", "10 mail.example.com."), `answer` (the
 * first), `answer_rrs` / `authority_rrs` / `additional_rrs` (counts), `serial` (SOA answers),
 * `truncated`, `address`, `ip_protocol`. The validate_*_rrs regular expressions see whole
 * records as dig prints them ("example.com.\t300\tIN\tA\t127.0.0.1"), as in blackbox_exporter.
 * Phases: resolve, connect, request.
 */
export const dns = {
  schema,
  async probe({ target, module, signal, log }): Promise<ProbeOutcome> {
    const phases: Record<string, number> = {};
    const details: Record<string, unknown> = {};
    const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });
    const hp = splitHostPort(target, 53);
    if ('error' in hp) return fail(hp.error);
    const resolved = await resolveHost(hp.host, module.ip_protocol, signal);
    phases.resolve = resolved.lookupMs;
    if ('error' in resolved) return fail(resolved.error);
    Object.assign(details, { address: resolved.address, ip_protocol: resolved.family });

    const id = randomInt(0, 65536);
    const query = {
      type: 'query' as const,
      id,
      flags: module.recursion_desired ? RECURSION_DESIRED : 0,
      questions: [{ type: module.query_type, name: module.query_name, class: module.query_class }],
    };
    log.debug('query', { server: `${resolved.address}:${hp.port}`, transport: module.transport_protocol, name: module.query_name, type: module.query_type });
    const exchange = module.transport_protocol === 'udp' ? exchangeUdp : exchangeTcp;
    const reply = await exchange(resolved, hp.port, query, signal, phases);
    if ('error' in reply) {
      const where = `${resolved.address}:${hp.port} (${module.transport_protocol})`;
      return fail(signal.aborted ? abortedReason(signal, `waiting for a response from ${where}`) : `query ${where}: ${reply.error}`);
    }
    return judge(reply, module, phases, details, log);
  },
  metrics(result) {
    const d = result.details;
    const out: MetricSample[] = [...resolveMetrics(result)];
    for (const phase of ['resolve', 'connect', 'request']) {
      out.push(gauge('probe_dns_duration_seconds', 'Duration of DNS request by phase', (result.phases[phase] ?? 0) / 1000, { phase }));
    }
    const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
    out.push(
      gauge('probe_dns_answer_rrs', 'Returns number of entries in the answer resource record list', count(d.answer_rrs)),
      gauge('probe_dns_authority_rrs', 'Returns number of entries in the authority resource record list', count(d.authority_rrs)),
      gauge('probe_dns_additional_rrs', 'Returns number of entries in the additional resource record list', count(d.additional_rrs)),
      gauge('probe_dns_query_succeeded', 'Displays whether or not the query was executed successfully', typeof d.rcode === 'string' ? 1 : 0),
    );
    if (typeof d.serial === 'number') out.push(gauge('probe_dns_serial', 'Returns the serial number of the zone', d.serial));
    return out;
  },
} satisfies Prober<typeof schema>;

/** Records the response's facts, then checks the rcode and each section's validators. */
function judge(reply: DecodedPacket, module: DnsModule, phases: Record<string, number>, details: Record<string, unknown>, log: { debug(msg: string, f?: Record<string, unknown>): void }): ProbeOutcome {
  const answers = reply.answers ?? [];
  const authorities = reply.authorities ?? [];
  const additionals = reply.additionals ?? [];
  const rcode = rcodeName((reply.flags ?? 0) & 0xf);
  const data = answers.map(rdataText);
  Object.assign(details, {
    rcode, answers: data, answer_rrs: answers.length, authority_rrs: authorities.length, additional_rrs: additionals.length, truncated: reply.flag_tc,
  });
  if (data[0] !== undefined) details.answer = data[0];
  const soa = answers.find((a) => a.type === 'SOA');
  if (soa?.type === 'SOA' && soa.data.serial !== undefined) details.serial = soa.data.serial;
  log.debug('response', { rcode, answers: answers.length, authorities: authorities.length, additionals: additionals.length });

  const fail = (reason: string): ProbeOutcome => ({ success: false, reason, phases, details });
  if (!(module.valid_rcodes as readonly string[]).includes(rcode)) return fail(`rcode ${rcode} not in [${module.valid_rcodes.join(', ')}]`);
  const sections = [
    ['answer', answers, module.validate_answer_rrs],
    ['authority', authorities, module.validate_authority_rrs],
    ['additional', additionals, module.validate_additional_rrs],
  ] as const;
  for (const [name, records, validator] of sections) {
    const problem = checkRecords(name, records.map(rrText), validator);
    if (problem !== undefined) return fail(problem);
  }
  return { success: true, phases, details };
}

function rcodeName(code: number): string {
  return rcodes[code] ?? `RCODE_${code}`;
}

type Query = Parameters<typeof encode>[0];

/** One query over a connected UDP socket; replies with another id are ignored. */
function exchangeUdp(server: Resolved, port: number, query: Query, signal: AbortSignal, phases: Record<string, number>): Promise<DecodedPacket | { error: string }> {
  return new Promise((resolve) => {
    const socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    let started = performance.now();
    let done = false;
    const finish = (value: DecodedPacket | { error: string }): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.close();
      resolve(value);
    };
    const onAbort = (): void => finish({ error: 'aborted' });
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish({ error: netErrorReason(err) }));
    socket.on('message', (msg) => {
      const packet = tryDecode(msg);
      if (packet === undefined || packet.id !== query.id || packet.type !== 'response') return;
      phases.request = performance.now() - started;
      finish(packet);
    });
    socket.connect(port, server.address, (err?: Error) => {
      if (err) { finish({ error: netErrorReason(err) }); return; }
      phases.connect = performance.now() - started;
      started = performance.now();
      socket.send(encode(query));
    });
  });
}

/** One query over TCP, length-prefixed (RFC 1035 4.2.2). */
function exchangeTcp(server: Resolved, port: number, query: Query, signal: AbortSignal, phases: Record<string, number>): Promise<DecodedPacket | { error: string }> {
  return new Promise((resolve) => {
    let started = performance.now();
    const socket = connect({ host: server.address, port, family: server.family });
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (value: DecodedPacket | { error: string }): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(value);
    };
    const onAbort = (): void => finish({ error: 'aborted' });
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish({ error: netErrorReason(err) }));
    socket.on('close', () => finish({ error: 'connection closed before a response' }));
    socket.on('connect', () => {
      phases.connect = performance.now() - started;
      started = performance.now();
      socket.write(streamEncode(query));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      phases.request = performance.now() - started;
      const packet = tryDecode(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
      finish(packet === undefined || packet.id !== query.id ? { error: 'malformed or mismatched response' } : packet);
    });
  });
}

function tryDecode(msg: Buffer): DecodedPacket | undefined {
  try {
    return decode(msg);
  } catch {
    return undefined;
  }
}
