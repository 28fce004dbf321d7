// Parses what iputils `ping -n` prints (reply lines and the statistics summary), under LC_ALL=C.

/** The numbers of one ping run. Times are in milliseconds, as ping prints them. */
export interface PingSummary {
  transmitted: number;
  /** Distinct replies (duplicates not counted). */
  received: number;
  duplicates: number;
  /** ICMP errors reported instead of replies (unreachable, time exceeded...). */
  errors: number;
  /** Packet loss in percent, 0-100, as ping computes it. */
  lossPercent: number;
  /** Absent when nothing came back. */
  rtt?: { min: number; avg: number; max: number; mdev?: number };
  /** TTL (hop limit for IPv6) of the last reply line, when there was one. */
  ttl?: number;
}

const statsLine = /^(\d+) packets transmitted, (\d+) (?:packets )?received((?:, \+\d+ \w+)*), ([\d.]+)% packet loss/m;
const extraCount = /\+(\d+) (\w+)/g;
const rttLine = /^(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/m;
const replyTtl = /^\d+ bytes from .*?\bttl=(\d+)/gm;

/**
 * Reads the summary of a finished (or interrupted) `ping -n` run; undefined when the text has
 * no statistics line (ping failed before sending, e.g. a bad option).
 *
 * @example
 *   parsePingOutput('3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms\n...')
 *   // { transmitted: 3, received: 2, lossPercent: 33.3333, ... }
 */
export function parsePingOutput(text: string): PingSummary | undefined {
  const stats = statsLine.exec(text);
  if (stats === null) return undefined;
  const summary: PingSummary = {
    transmitted: Number(stats[1]),
    received: Number(stats[2]),
    duplicates: 0,
    errors: 0,
    lossPercent: Number(stats[4]),
  };
  for (const [, n, what] of (stats[3] ?? '').matchAll(extraCount)) {
    if (what === 'duplicates') summary.duplicates = Number(n);
    else if (what === 'errors') summary.errors = Number(n);
  }
  const rtt = rttLine.exec(text);
  if (rtt !== null) {
    summary.rtt = { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) };
    if (rtt[4] !== undefined) summary.rtt.mdev = Number(rtt[4]);
  }
  let ttl: string | undefined;
  for (const m of text.matchAll(replyTtl)) ttl = m[1];
  if (ttl !== undefined) summary.ttl = Number(ttl);
  return summary;
}

