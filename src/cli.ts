#!/usr/bin/env node
// Entry point: holds SIGHUP for the commands that reload on it, then loads the program. ESM loads a
// module's whole static import graph before any of its code runs, and the program's takes hundreds
// of milliseconds: a SIGHUP in that time (logrotate's postrotate right after a restart) would end
// the process. So this file imports nothing heavy and the program comes by dynamic import.
import { holdSighup } from './core/sighup.ts';
// Entry point: builds the commander program from each tool's command.ts and maps errors to exit codes.
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

/** Global options that take their value as the next argument (createProgram in program.ts defines them). */
export const globalValueOptions: readonly string[] = ['--log-level', '--log-format'];

/**
 * The commands that reload on SIGHUP: a command, or a command and its subcommand that reloads (their
 * help says so; test/cli.test.ts checks the two agree). Every other command keeps SIGHUP's default,
 * so `opsctl ps --watch` ends when its terminal closes.
 */
export const reloadingCommands: ReadonlyArray<readonly [string, string?]> = [['ship'], ['probe', 'serve'], ['up']];
Exit codes: 0 ok, 1 a check failed, 64 usage or expression error, 66 missing input,
69 unavailable (listen, webhook), 70 internal, 74 I/O, 78 config error.`);
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

/** Whether `opsctl ...argv` runs a command that reloads on SIGHUP; decided from argv alone, without the program. */
export function reloadsOnSighup(argv: readonly string[]): boolean {
  const words: string[] = [];
  let skipValue = false;
  for (const arg of argv) {
    if (skipValue) skipValue = false;
    else if (arg === '--') break;
    else if (globalValueOptions.includes(arg)) skipValue = true;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  const [command, ...rest] = words;
  // A value of the command's own options may come before the subcommand's name.
  return reloadingCommands.some(([name, sub]) => command === name && (sub === undefined || rest.includes(sub)));
}

/** Runs `opsctl ...argv` as the process: exit code on process.exitCode (see program.ts). */
export async function run(argv: string[]): Promise<void> {
  if (reloadsOnSighup(argv)) holdSighup();
  const program = await import('./program.ts');
  await program.run(argv);
}

if (import.meta.main) await run(process.argv.slice(2));
