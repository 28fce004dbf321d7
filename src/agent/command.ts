// `opsctl agent`: node_exporter-compatible host metrics on /metrics. Heavy modules load inside the action.
import { Command, InvalidArgumentError } from 'commander';
import { commandLogger } from '../core/command.ts';
import { OpsError } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';
import { collectors } from './collectors/index.ts';
import type { AgentOptions } from './run.ts';

const durationArg = (value: string): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < 100) throw new InvalidArgumentError('expected a duration of at least 100ms, such as 15s or 1m');
  return ms;
};
const countArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
};

const labelArg = (value: string, previous: Record<string, string>): Record<string, string> => {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected key=value, such as role=web');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};

/** --server, repeatable, each one URL or a comma-separated list. */
const serverArg = (value: string, previous: string[] | undefined): string[] => [...previous ?? [], value];

interface AgentFlags {
  server?: string[];
  tokenFile?: string;
  nodeName?: string;
  label: Record<string, string>;
  serverCa?: string;
  dataDir: string;
  listen: string;
  'path.procfs': string;
  'path.sysfs': string;
  'path.rootfs': string;
  'collector.textfile.directory'?: string;
  'push.remoteWrite'?: string;
  'push.url'?: string;
  'push.hostId'?: string;
  'push.interval': number;
  'push.ringSize': number;
  'push.batchSize': number;
  [flag: `collector.${string}`]: boolean | string | undefined;
}

/** The collectors these flags enable: `--[no-]collector.<name>` over each entry's default. */
export function enabledCollectors(flags: Readonly<Partial<Record<`collector.${string}`, unknown>>>): string[] {
  return Object.values(collectors)
    .filter((c) => {
      const flag = flags[`collector.${c.name}`];
      return typeof flag === 'boolean' ? flag : c.defaultEnabled;
    })
    .map((c) => c.name);
}

/** `opsctl agent`, with one `--collector.<name>` / `--no-collector.<name>` pair per collector. */
export function agentCommand(): Command {
  const cmd = new Command('agent')
    .description('serve node_exporter-compatible host metrics on /metrics (pull)')
    .option('--listen <host:port>', 'address to serve /metrics, /healthz and /readyz on', '127.0.0.1:9100')
    .option('--path.procfs <dir>', 'procfs mount point', '/proc')
    .option('--path.sysfs <dir>', 'sysfs mount point', '/sys')
    .option('--path.rootfs <dir>', 'root filesystem mount point (mount points and os-release are read under it)', '/')
    .option('--collector.textfile.directory <dir>', 'directory of *.prom files for the textfile collector')
    .option('--push.remote-write <url>', 'also push every collection to this Prometheus remote-write endpoint')
    .option('--push.url <url>', 'also push every collection to this opsctl ingest endpoint (the opsctl push protocol)')
    .option('--push.host-id <id>', 'host id in pushed batches and their idempotency keys (default: the hostname)')
    .option('--push.interval <duration>', 'time between two pushed collections', durationArg, 15_000)
    .option('--push.ring-size <batches>', 'batches kept in memory while the receiver is down (oldest dropped and counted beyond)', countArg, 1024)
    .option('--push.batch-size <records>', 'collections per POST', countArg, 10)
    .option('--server <url>', 'link to this opsctl server (wss://HOST[:PORT]) to receive pushed configs; repeatable or comma-separated for replicas (the agent starts at a random one and fails over)', serverArg)
    .option('--token-file <file>', 'file holding the agent token (scope "agent"), read again before each connection')
    .option('--node-name <name>', 'this node\'s name on the server (default: the hostname)')
    .option('--label <key=value>', 'a node label that config selectors match (repeatable)', labelArg, {})
    .option('--server-ca <file>', 'PEM CA bundle the server certificate must chain to (default: the system CAs)')
    .option('--data-dir <dir>', 'where pushed configs are kept (pushed/<kind>/<name>.json)', '/var/lib/opsctl/agent');
  for (const c of Object.values(collectors)) {
    cmd.option(`--collector.${c.name}`, `enable the ${c.name} collector${c.defaultEnabled ? ' (default: enabled)' : ' (default: disabled)'}`);
    cmd.option(`--no-collector.${c.name}`, `disable the ${c.name} collector`);
  }
  return cmd
    .addHelpText('after', `
Metric names, types and labels are node_exporter's, so its dashboards and alert rules keep working.
Every scrape reports node_scrape_collector_success and node_scrape_collector_duration_seconds per
collector; a failing collector never fails the scrape.

Examples:
  opsctl agent
  opsctl agent --listen :9100 --no-collector.filesystem
  opsctl agent --path.procfs /host/proc --path.sysfs /host/sys --path.rootfs /host
  opsctl agent --collector.textfile.directory /var/lib/opsctl/textfile
  curl -s --compressed http://127.0.0.1:9100/metrics | grep ^node_load
  opsctl agent --push.remote-write http://127.0.0.1:9090/api/v1/write --push.interval 15s
  opsctl agent --server wss://opsctl.example:9443 --token-file /etc/opsctl/agent.token --label role=web --label env=prod
  opsctl agent --server wss://ops-1.example:9443,wss://ops-2.example:9443,wss://ops-3.example:9443 --token-file /etc/opsctl/agent.token`)
    .action((flags: AgentFlags, command: Command) => runAgent(flags, command));
}

async function runAgent(flags: AgentFlags, cmd: Command): Promise<void> {
  const { listenAddress } = await import('../core/config.ts');
  const parsed = listenAddress().safeParse(flags.listen);
  if (!parsed.success) throw new OpsError('OPS_ERR_USAGE', `--listen: ${parsed.error.issues[0]?.message ?? 'expected host:port'}`);
  const link = await linkFromFlags(flags);
  const log = await commandLogger(cmd);
  const { hosted, runServices } = await import('../core/runner.ts');
  const { agentService } = await import('./run.ts');
  // The agent serves on its own address: the runner has no HTTP server of its own here.
  await runServices({
    services: [hosted('agent', agentService, {
      listen: parsed.data, collectors: enabledCollectors(flags),
      procfs: flags['path.procfs'], sysfs: flags['path.sysfs'], rootfs: flags['path.rootfs'],
      textfileDirectory: flags['collector.textfile.directory'],
      push: {
        remoteWrite: flags['push.remoteWrite'], url: flags['push.url'], hostId: flags['push.hostId'],
        intervalMs: flags['push.interval'], ringSize: flags['push.ringSize'], batchSize: flags['push.batchSize'],
      },
      link,
    })],
    log, shutdownTimeoutMs: 10_000,
  });
}

/** The link settings from the flags, checked by the same schema as `[agent]` (errors name the flag). */
async function linkFromFlags(flags: AgentFlags): Promise<AgentOptions['link']> {
  const { loadConfig } = await import('../core/config.ts');
  const { z } = await import('zod');
  const { agentLinkOptions, agentLinkShape, checkAgentLink } = await import('./config.ts');
  const keys = loadConfig({
    schema: z.strictObject(agentLinkShape).superRefine(checkAgentLink),
    flags: { server: flags.server, token_file: flags.tokenFile, node_name: flags.nodeName, labels: flags.label, server_ca: flags.serverCa, data_dir: flags.dataDir },
    flagNames: { server: '--server', token_file: '--token-file', node_name: '--node-name', labels: '--label', server_ca: '--server-ca', data_dir: '--data-dir' },
  });
  return agentLinkOptions(keys);
}
