// DNS resource records as text, the way dig (and blackbox_exporter's miekg/dns) prints them, and
// the validate_*_rrs regular-expression checks that blackbox_exporter runs over that text.
import type { Answer } from 'dns-packet';
import { z } from 'zod';
import { regex, show } from './network.ts';

/** `validate_answer_rrs = { fail_if_matches_regexp = [...], ... }`, as blackbox_exporter. */
export const rrValidator = z.strictObject({
  /** Fail if any record matches any of these. */
  fail_if_matches_regexp: z.array(regex).default([]),
  /** Fail if any record does not match each of these (and if there is no record). */
  fail_if_not_matches_regexp: z.array(regex).default([]),
  /** Fail if every record matches every one of these. */
  fail_if_all_match_regexp: z.array(regex).default([]),
  /** Fail unless some record matches one of these (and if there is no record). */
  fail_if_none_matches_regexp: z.array(regex).default([]),
}).prefault({});
export type RrValidator = z.output<typeof rrValidator>;

/** A name with its final dot, "." for the root. */
function fqdn(name: string): string {
  return name === '' ? '.' : name.endsWith('.') ? name : `${name}.`;
}

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The record data as dig prints it: "127.0.0.1", "10 mail.example.com.", "\"v=spf1 -all\"",
 * "ns.example.com. noc.example.com. 2024010101 7200 3600 1209600 3600".
 */
export function rdataText(rr: Answer): string {
  switch (rr.type) {
    case 'A': case 'AAAA': return rr.data;
    case 'CNAME': case 'DNAME': case 'NS': case 'PTR': return fqdn(rr.data);
    case 'MX': return `${rr.data.preference ?? 0} ${fqdn(rr.data.exchange)}`;
    case 'TXT': {
      const parts = Array.isArray(rr.data) ? rr.data : [rr.data];
      return parts.map((p) => quoted(typeof p === 'string' ? p : p.toString('utf8'))).join(' ');
    }
    case 'SOA': {
      const d = rr.data;
      return [fqdn(d.mname), fqdn(d.rname), d.serial, d.refresh, d.retry, d.expire, d.minimum].map((v) => String(v ?? 0)).join(' ');
    }
    case 'SRV': return `${rr.data.priority ?? 0} ${rr.data.weight ?? 0} ${rr.data.port} ${fqdn(rr.data.target)}`;
    case 'CAA': return `${rr.data.flags ?? 0} ${rr.data.tag} ${quoted(rr.data.value)}`;
    case 'OPT': return `; EDNS: version ${rr.ednsVersion}, udp ${rr.udpPayloadSize}`;
    default: {
      const data: unknown = (rr as { data?: unknown }).data;
      return Buffer.isBuffer(data) ? `\\# ${data.length} ${data.toString('hex')}` : JSON.stringify(data) ?? '';
    }
  }
}

/** The whole record, tab-separated as dig prints it: "example.com.\t300\tIN\tA\t127.0.0.1". */
export function rrText(rr: Answer): string {
  if (rr.type === 'OPT') return `.\t0\tIN\tOPT\t${rdataText(rr)}`;
  return `${fqdn(rr.name)}\t${rr.ttl ?? 0}\t${rr.class ?? 'IN'}\t${rr.type}\t${rdataText(rr)}`;
}

/**
 * Checks one section's records (as rrText lines) against a validator, with blackbox_exporter's
 * semantics; undefined when they pass, else why not.
 */
export function checkRecords(section: string, lines: readonly string[], v: RrValidator): string | undefined {
  if (lines.length === 0) {
    const needed = v.fail_if_not_matches_regexp[0] ?? v.fail_if_none_matches_regexp[0];
    return needed === undefined ? undefined : `no ${section} record to match ${show(needed)}`;
  }
  for (const line of lines) {
    const bad = v.fail_if_matches_regexp.find((re) => re.test(line));
    if (bad) return `${section} record ${JSON.stringify(line)} matches ${show(bad)}`;
    const unmatched = v.fail_if_not_matches_regexp.find((re) => !re.test(line));
    if (unmatched) return `${section} record ${JSON.stringify(line)} does not match ${show(unmatched)}`;
  }
  const all = v.fail_if_all_match_regexp;
  if (all.length > 0 && all.every((re) => lines.every((l) => re.test(l)))) return `every ${section} record matches ${all.map(show).join(', ')}`;
  const some = v.fail_if_none_matches_regexp;
  if (some.length > 0 && !some.some((re) => lines.some((l) => re.test(l)))) return `no ${section} record matches ${some.map(show).join(' or ')}`;
  return undefined;
}
