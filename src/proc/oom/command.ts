// `opsctl oom watch`: the CLI over OomWatcher. Logging, metrics and HTTP load inside the action.
import { Command, InvalidArgumentError, Option } from 'commander';
import { commandLogger, writeOut } from '../../core/command.ts';
import { OpsError } from '../../core/errors.ts';
import { parseDurationMs } from '../../core/units.ts';
import type { OomWatchStatus } from './watcher.ts';

interface WatchFlags {
  json?: boolean;
  interval: number;
  webhook?: string;
  kmsg: string | false;
  listen?: string;
  'path.procfs': string;
  'path.sysfs': string;
}

const intervalArg = (value: string): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < 10) throw new InvalidArgumentError('expected a duration of at least 10ms, such as 500ms, 1s or 1m');
  return ms;
};
const urlArg = (value: string): string => {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
};

/** `opsctl oom` and its `watch` subcommand. */
export function oomCommand(): Command {
  const oom = new Command('oom')
    .description('detect OOM kills: system-wide, per memory cgroup, with the victim from the kernel log')
    .addHelpText('after', '\nExamples:\n  opsctl oom watch\n  opsctl oom watch --json --webhook http://127.0.0.1:9000/hook');
  oom.command('watch')
    .description('report OOM kills as they happen (no root needed; /dev/kmsg, where readable, names the victim)')
    .option('--json', 'print one JSON object per kill')
    .addOption(new Option('--interval <duration>', 'time between two reads of the counters').argParser(intervalArg).default(1000, '1s'))
    .option('--webhook <url>', 'POST each kill as JSON to this URL (retried with backoff on errors, 5xx and 429)', urlArg)
    .option('--kmsg <path>', 'kernel log to read victims from', '/dev/kmsg')
    .option('--no-kmsg', 'do not read the kernel log (victims are unknown)')
    .option('--listen <host:port>', 'also serve /metrics, /healthz and /readyz here')
    .option('--path.procfs <dir>', 'procfs mount point', '/proc')
    .option('--path.sysfs <dir>', 'sysfs mount point (cgroups under <dir>/fs/cgroup)', '/sys')
    .addHelpText('after', `
Sources: the oom_kill counter in /proc/vmstat (every kill), memory.events (cgroup v2) or
memory.oom_control (cgroup v1) of each memory cgroup (where it was), /dev/kmsg (who).
Each kill is printed once, even when several sources saw it.

Examples:
  opsctl oom watch
  opsctl oom watch --json | jq 'select(.scope == "cgroup") | {pid, name, cgroup}'
  opsctl oom watch --webhook http://127.0.0.1:9000/hook --listen 127.0.0.1:9110
  opsctl oom watch --no-kmsg --interval 5s`)
    .action((flags: WatchFlags, cmd: Command) => runWatch(flags, cmd));
  return oom;
}

async function runWatch(flags: WatchFlags, cmd: Command): Promise<void> {
  const log = await commandLogger(cmd);
  let listen: { host: string; port: number } | undefined;
  if (flags.listen !== undefined) {
    const { listenAddress } = await import('../../core/config.ts');
    const parsed = listenAddress().safeParse(flags.listen);
    if (!parsed.success) throw new OpsError('OPS_ERR_USAGE', `--listen: ${parsed.error.issues[0]?.message ?? 'expected host:port'}`);
    listen = parsed.data;
  }
  const { hosted, runServices } = await import('../../core/runner.ts');
  const { createRegistry } = await import('../../core/metrics.ts');
  const { oomService } = await import('./service.ts');
  const { formatEventText } = await import('./event.ts');
  await runServices({
    services: [hosted('oom', oomService, {
        procfs: flags['path.procfs'], sysfs: flags['path.sysfs'], kmsgPath: flags.kmsg,
        intervalMs: flags.interval, webhook: flags.webhook, logEvents: false,
        onEvent: (e) => writeOut(`${flags.json ? JSON.stringify(e) : formatEventText(e)}\n`),
        onStarted: (status) => process.stderr.write(`opsctl oom watch: ${describeStatus(status, flags.interval)}\n`),
      })],
    listen, log, shutdownTimeoutMs: 10_000, registry: createRegistry({ runtime: listen !== undefined }),
  });
}

/** "watching vmstat oom_kill, 37 memory cgroups (v1), /dev/kmsg; every 1s" */
export function describeStatus(s: OomWatchStatus, intervalMs: number): string {
  const parts: string[] = [];
  if (s.vmstat) parts.push('vmstat oom_kill');
  if (s.cgroups) parts.push(`${s.cgroups.count} memory cgroups (${s.cgroups.version}, ${s.cgroups.mount})`);
  else parts.push('no memory cgroups');
  if (s.kmsg === false) parts.push('kernel log off (victims unknown)');
  else if (s.kmsg.error !== undefined) parts.push(`${s.kmsg.path} unreadable (${s.kmsg.error}: victims unknown)`);
  else parts.push(s.kmsg.path);
  return `watching ${parts.join(', ')}; every ${intervalMs % 1000 === 0 ? `${intervalMs / 1000}s` : `${intervalMs}ms`}`;
}
