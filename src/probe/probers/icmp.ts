// The icmp prober: echo requests through the system's iputils `ping` (no raw sockets in Node),
// so opsctl needs no privileges of its own; reports loss and round-trip times.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { duration, size } from '../../core/config.ts';
import { abortedReason, gauge, ipProtocol, resolveHost, resolveMetrics } from './network.ts';
import { parsePingOutput, type PingSummary } from './ping-output.ts';
import type { MetricSample, ProbeOutcome, Prober, ProbeResult } from '../types.ts';

const schema = z.strictObject({
  /** Echo requests to send. */
  count: z.number().int().min(1).max(1000).default(3),
  /** Between requests; iputils refuses less than 200ms unless run as root (or 2ms, by version). */
  interval: duration().refine((ms) => ms >= 1, 'expected at least 1ms').prefault('200ms'),
  /** ICMP payload bytes (ping -s); blackbox_exporter's payload_size. */
  size: size().refine((b) => b <= 65507, 'expected at most 65507 bytes').prefault(56),
  /** IP TTL / hop limit of the requests (ping -t). */
  ttl: z.number().int().min(1).max(255).optional(),
  /** Set the don't-fragment bit (ping -M do), to probe path MTU with `size`. */
  dont_fragment: z.boolean().default(false),
  /** Source address or interface (ping -I). */
  source_ip_address: z.string().min(1).optional(),
  ip_protocol: ipProtocol,
});
type IcmpModule = z.output<typeof schema>;

/** How long ping may take after its last request: what the timeout leaves, within [100ms, 10s]. */
function replyWaitSeconds(module: IcmpModule, timeoutMs: number): number {
  const left = timeoutMs * 0.9 - 50 - (module.count - 1) * module.interval;
  return Math.min(10, Math.max(0.1, left / 1000));
}

/**
 * The ping command line for one probe (numeric, C locale numbers).
 * @example pingArgs(module, '127.0.0.1', 4, 5000) // ['-n', '-4', '-c', '3', '-i', '0.2', ...]
 */
export function pingArgs(module: IcmpModule, address: string, family: 4 | 6, timeoutMs: number): string[] {
  const args = ['-n', `-${family}`, '-c', String(module.count), '-i', String(module.interval / 1000), '-s', String(module.size)];
  args.push('-W', replyWaitSeconds(module, timeoutMs).toFixed(3));
  if (module.ttl !== undefined) args.push('-t', String(module.ttl));
  if (module.dont_fragment) args.push('-M', 'do');
  if (module.source_ip_address !== undefined) args.push('-I', module.source_ip_address);
  args.push(address);
  return args;
}

/**
 * Details: `sent`, `received`, `loss` (percent 0-100), `rtt_min`/`rtt_avg`/`rtt_max`/`rtt_mdev`
 * (seconds), `hop_limit`, `address`, `ip_protocol`. Succeeds when at least one reply came back;
 * conditions (`loss < 20`, `rtt_avg < 50ms`) judge the rest. Phases: resolve, setup, rtt (average).
 */
export const icmp = {
  schema,
  async probe({ target, module, signal, timeoutMs, log }): Promise<ProbeOutcome> {
    const phases: Record<string, number> = {};
    const details: Record<string, unknown> = {};
    const resolved = await resolveHost(target, module.ip_protocol, signal);
    phases.resolve = resolved.lookupMs;
    if ('error' in resolved) return { success: false, reason: resolved.error, phases, details };
    Object.assign(details, { address: resolved.address, ip_protocol: resolved.family });
    const args = pingArgs(module, resolved.address, resolved.family, timeoutMs);
    log.debug('ping', { args: args.join(' ') });

    const run = await runPing(args, signal, phases);
    const summary = parsePingOutput(run.stdout);
    if (summary !== undefined) Object.assign(details, summaryDetails(summary));
    if (summary?.rtt !== undefined) phases.rtt = summary.rtt.avg;
    if (summary !== undefined) log.debug('ping summary', { sent: summary.transmitted, received: summary.received, errors: summary.errors });
    if (signal.aborted) {
      const sofar = summary === undefined ? '' : ` (${summary.received} of ${summary.transmitted} replies so far)`;
      return { success: false, reason: abortedReason(signal, `waiting for ping${sofar}`), phases, details };
    }
    if (run.spawnError !== undefined) return { success: false, reason: run.spawnError, phases, details };
    if (summary === undefined) {
      const why = run.stderr.trim().split('\n')[0] ?? '';
      return { success: false, reason: why === '' ? `ping exited with code ${String(run.code)}` : why, phases, details };
    }
    if (summary.received === 0) {
      const errors = summary.errors > 0 ? `, ${summary.errors} ICMP errors` : '';
      return { success: false, reason: `no reply to ${summary.transmitted} echo requests${errors}`, phases, details };
    }
    return { success: true, phases, details };
  },
  metrics(result) {
    const out: MetricSample[] = [...resolveMetrics(result)];
    const phaseHelp = 'Duration of icmp request by phase';
    for (const phase of ['resolve', 'setup', 'rtt']) {
      out.push(gauge('probe_icmp_duration_seconds', phaseHelp, (result.phases[phase] ?? 0) / 1000, { phase }));
    }
    const d = result.details;
    if (typeof d.hop_limit === 'number') out.push(gauge('probe_icmp_reply_hop_limit', 'Replied packet hop limit (TTL for ipv4)', d.hop_limit));
    out.push(...opsctlMetrics(result));
    return out;
  },
} satisfies Prober<typeof schema>;

/** opsctl additions to blackbox_exporter's icmp metrics: loss and min/avg/max over several requests. */
function opsctlMetrics(result: ProbeResult): MetricSample[] {
  const d = result.details;
  const out: MetricSample[] = [];
  if (typeof d.loss === 'number') {
    out.push(gauge('probe_icmp_packet_loss_ratio', 'Share of echo requests without a reply, 0 to 1 (an opsctl addition)', d.loss / 100));
  }
  for (const stat of ['min', 'avg', 'max'] as const) {
    const v = d[`rtt_${stat}`];
    if (typeof v === 'number') out.push(gauge('probe_icmp_rtt_seconds', 'Round-trip time of the echo replies by statistic (an opsctl addition)', v, { stat }));
  }
  return out;
}

function summaryDetails(s: PingSummary): Record<string, unknown> {
  const d: Record<string, unknown> = { sent: s.transmitted, received: s.received, loss: s.lossPercent };
  if (s.rtt !== undefined) {
    Object.assign(d, { rtt_min: s.rtt.min / 1000, rtt_avg: s.rtt.avg / 1000, rtt_max: s.rtt.max / 1000 });
    if (s.rtt.mdev !== undefined) d.rtt_mdev = s.rtt.mdev / 1000;
  }
  if (s.ttl !== undefined) d.hop_limit = s.ttl;
  return d;
}

interface PingRun {
  stdout: string;
  stderr: string;
  code: number | null;
  spawnError?: string;
}

/**
 * Runs ping to its end. On abort it sends SIGINT, on which ping prints its statistics so far,
 * and SIGKILL if it has not exited 200ms later. Sets `phases.setup` at ping's first line.
 */
function runPing(args: string[], signal: AbortSignal, phases: Record<string, number>): Promise<PingRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const run: PingRun = { stdout: '', stderr: '', code: null };
    if (signal.aborted) { resolve(run); return; }
    const child = spawn('ping', args, { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let killer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGINT');
      killer = setTimeout(() => child.kill('SIGKILL'), 200);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (run.stdout === '') phases.setup = performance.now() - started;
      run.stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { run.stderr += chunk; });
    child.on('error', (err: NodeJS.ErrnoException) => {
      run.spawnError = err.code === 'ENOENT' ? 'ping not found in PATH (Debian/Ubuntu: apt-get install iputils-ping)' : `ping: ${err.message}`;
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killer);
      run.code = code;
      resolve(run);
    });
  });
}
