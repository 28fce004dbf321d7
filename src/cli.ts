#!/usr/bin/env node
// Entry point: holds SIGHUP for the commands that reload on it, then loads the program. ESM loads a
// module's whole static import graph before any of its code runs, and the program's takes hundreds
// of milliseconds: a SIGHUP in that time (logrotate's postrotate right after a restart) would end
// the process. So this file imports nothing heavy and the program comes by dynamic import.
import { holdSighup } from './core/sighup.ts';

/** Global options that take their value as the next argument (createProgram in program.ts defines them). */
export const globalValueOptions: readonly string[] = ['--log-level', '--log-format'];

/**
 * The commands that reload on SIGHUP: a command, a command and its subcommand that reloads, or a
 * command unless it runs a given subcommand ("!name") (their
 * help says so; test/cli.test.ts checks the two agree). Every other command keeps SIGHUP's default,
 * so `opsctl ps --watch` ends when its terminal closes.
 */
export const reloadingCommands: ReadonlyArray<readonly [string, string?]> = [['ship'], ['probe', 'serve'], ['up'], ['server', '!token']];

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
  // "!sub": the command itself, unless it runs that subcommand (`opsctl server` runs, `opsctl server token` does not).
  return reloadingCommands.some(([name, sub]) => command === name
    && (sub === undefined || (sub.startsWith('!') ? !rest.includes(sub.slice(1)) : rest.includes(sub))));
}

/** Runs `opsctl ...argv` as the process: exit code on process.exitCode (see program.ts). */
export async function run(argv: string[]): Promise<void> {
  if (reloadsOnSighup(argv)) holdSighup();
  const program = await import('./program.ts');
  await program.run(argv);
}

if (import.meta.main) await run(process.argv.slice(2));
