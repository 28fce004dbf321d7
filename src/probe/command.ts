// `opsctl probe URL...` (one-shot) and `opsctl probe serve` (the service). Light on purpose: probers,
// logging, HTTP and metrics load inside the actions.
import { Command, InvalidArgumentError, Option } from 'commander';
import { commandLogger, writeOut } from '../core/command.ts';
import { OpsError } from '../core/errors.ts';
import { parseDurationMs } from '../core/units.ts';

interface OneShotFlags {
  concurrency: number;
  timeout: number;
  condition?: string[];
  file?: string;
  json?: boolean;
  verbose?: boolean;
}

interface ServeFlags {
  config: string;
  checkConfig?: boolean;
  listen?: string;
}

const timeoutArg = (value: string): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < 1) throw new InvalidArgumentError('expected a duration such as 500ms, 5s or 1m');
  return Math.ceil(ms);
};
const countArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
};
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `opsctl probe` and its `serve` subcommand. */
export function probeCommand(): Command {
  const probe = new Command('probe')
    .description('health checks: probe targets once (HTTP(S), TCP, TLS, ICMP, DNS, gRPC), or serve /probe and /metrics as blackbox_exporter does')
    .argument('[targets...]', 'URLs: http(s)://, tcp://host:port, tls://host[:port], icmp://host, dns://server[:port]/name[?type=MX], grpc(s)://host:port')
    .addOption(new Option('--concurrency <n>', 'probes at once').argParser(countArg).default(10))
    .addOption(new Option('-t, --timeout <duration>', 'timeout of each probe').argParser(timeoutArg).default(5000, '5s'))
    .option('--condition <expr>', 'must hold for a probe to pass, e.g. "status == 200" or "duration < 0.5" (repeatable)', collect)
    .option('-f, --file <path>', 'read targets from a file, one per line ("#" comments and blank lines skipped; "-" is stdin)')
    .option('--json', 'print a JSON array of the results')
    .option('-v, --verbose', "print each failed probe's debug log")
    .addHelpText('after', `
Prints one line per target: ✓ or ✗, the target, how long it took, and why it failed.
Exit codes: 0 every probe succeeded, 1 one or more failed, 64 usage error.

Examples:
  opsctl probe https://example.com
  opsctl probe tcp://db:5432 tls://example.com:443 icmp://10.0.0.1 grpc://svc:50051
  opsctl probe dns://127.0.0.1/example.com?type=MX
  opsctl probe https://api.internal/healthz --condition 'status == 200 && body.ok == true'
  opsctl probe --file targets.txt --concurrency 50 --json | jq '.[] | select(.success | not)'`)
    .action((targets: string[], flags: OneShotFlags) => runOneShot(targets, flags));
  probe.command('serve')
    .description('run scheduled probes with /metrics and alerts, and a blackbox_exporter-compatible /probe endpoint')
    .requiredOption('--config <file>', 'probes.toml: listen, modules, targets, alerts')
    .option('--check-config', 'validate the config and exit (0 valid, 78 invalid)')
    .option('--listen <host:port>', 'override the listen address of the config')
    .addHelpText('after', `
Endpoints: /probe?target=...&module=... (blackbox_exporter compatible), /metrics (the last
result of every scheduled target), /api/v1/targets (JSON), POST /-/reload, /healthz, /readyz.
SIGHUP or POST /-/reload re-reads the config; an invalid one is reported and the old one kept.

Examples:
  opsctl probe serve --config examples/probes.toml
  opsctl probe serve --config /etc/opsctl/probes.toml --check-config
  curl 'http://127.0.0.1:9115/probe?target=https://example.com&module=http_2xx&debug=true'`)
    .action((flags: ServeFlags, cmd: Command) => runServe(flags, cmd));
  return probe;
}

async function runOneShot(args: string[], flags: OneShotFlags): Promise<void> {
  const { parseTarget } = await import('./target-url.ts');
  const inputs = [...args];
  if (flags.file !== undefined) inputs.push(...await readTargetFile(flags.file));
  if (inputs.length === 0) throw new OpsError('OPS_ERR_USAGE', 'no targets: give one or more URLs, or --file (see opsctl probe --help)');
  const targets = inputs.map(parseTarget);
  const { compile } = await import('../core/expr.ts');
  const conditions = (flags.condition ?? []).map((c) => compile(c));
  const { probeOnce, formatResult, resultJson } = await import('./one-shot.ts');
  const { palette, useColor } = await import('../core/tty.ts');
  const colors = palette(useColor(1));
  const width = Math.max(...inputs.map((t) => t.length));
  const results = await probeOnce(targets, {
    timeoutMs: flags.timeout, conditions, concurrency: flags.concurrency, debug: flags.verbose === true,
  }, flags.json ? undefined : (r) => writeOut(formatResult(r, width, colors, flags.verbose === true)));
  if (flags.json) await writeOut(`${JSON.stringify(results.map(resultJson), null, 2)}\n`);
  if (results.some((r) => !r.success)) process.exitCode = 1;
}

async function readTargetFile(file: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { errnoCode } = await import('../core/errors.ts');
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new OpsError('OPS_ERR_USAGE', `--file ${file}: cannot read (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  return text.split('\n').map((l) => l.replace(/(^|\s)#.*$/, '').trim()).filter((l) => l !== '');
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

async function runServe(flags: ServeFlags, cmd: Command): Promise<void> {
  const { loadServiceConfig } = await import('./service-config.ts');
  if (flags.checkConfig) {
    const { checkServices, hosted } = await import('../core/runner.ts');
    const { probeService } = await import('./serve.ts');
    await checkServices([hosted('probe', probeService, { file: flags.config, listen: flags.listen })]);
    const config = loadServiceConfig(flags.config, { listen: flags.listen });
    return writeOut(`config ok: ${flags.config} (${Object.keys(config.modules).length} modules, ${config.targets.length} targets)\n`);
  }
  const log = await commandLogger(cmd);
  const { serveProbes } = await import('./serve.ts');
  await serveProbes({ file: flags.config, listen: flags.listen, log });
}
