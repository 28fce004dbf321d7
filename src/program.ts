// The program: the commander tree built from each tool's command.ts, and errors mapped to exit codes.
// src/cli.ts (the entry) loads it by dynamic import once SIGHUP is held.
import { Command, CommanderError, Option } from 'commander';
import { isOpsError } from './core/errors.ts';
import { logFormats, logLevels } from './core/command.ts';
import { versionCommand } from './version/command.ts';
import { psCommand, snapshotCommand } from './proc/command.ts';
import { oomCommand } from './proc/oom/command.ts';
import { probeCommand } from './probe/command.ts';
import { upCommand } from './up/command.ts';
import { agentCommand } from './agent/command.ts';
import { shipCommand } from './ship/command.ts';
import { serverCommand } from './server/command.ts';

/** The whole `opsctl` command tree. Tests build it to run commands in-process. */
export function createProgram(): Command {
  const program = new Command('opsctl')
    .description('One ops toolkit for the people who run servers: processes, probes, logs, host metrics.')
    .addOption(new Option('--log-level <level>', 'log level').choices(logLevels).default('info'))
    .addOption(new Option('--log-format <format>', 'log format (logs go to stderr)').choices(logFormats).default('json'))
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText('after', `
Examples:
  opsctl ps --tree --filter "ppid==$$"      your shell's children, as a tree
  opsctl snapshot -o before.json            a JSON snapshot of the host and every process
  opsctl oom watch --json                   report OOM kills as they happen
  opsctl probe https://example.com          check a target once (also tcp://, dns://...)
  opsctl probe serve --config probes.toml   scheduled probes, /metrics, blackbox-compatible /probe
  opsctl agent --listen :9100               node_exporter-compatible host metrics on /metrics
  opsctl up --config examples/opsctl.toml   every service the config enables

Exit codes: 0 ok, 1 a check failed, 64 usage or expression error, 66 missing input,
69 unavailable (listen, webhook, server), 70 internal, 74 I/O, 75 retry later (conflict,
rate limited), 77 not allowed (token), 78 config error.`);
  program.addCommand(psCommand());
  program.addCommand(snapshotCommand());
  program.addCommand(oomCommand());
  program.addCommand(probeCommand());
  program.addCommand(shipCommand());
  program.addCommand(agentCommand());
  program.addCommand(serverCommand());
  program.addCommand(upCommand());
  program.addCommand(versionCommand());
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  const override = (cmd: Command): void => { cmd.exitOverride(); cmd.commands.forEach(override); };
  override(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 64;
    }
    if (isOpsError(err)) {
      process.stderr.write(`opsctl: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`opsctl: OPS_ERR_INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 70;
  }
}

/** Runs the CLI as a program: exit code on process.exitCode, a closed stdout pipe is not an error. */
export async function run(argv: string[]): Promise<void> {
  // A closed pipe (`opsctl ps | head`) is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await main(argv);
}
