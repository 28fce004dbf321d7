// What every command's action needs from the global options: a logger, and output helpers.
import type { Command } from 'commander';
import { createLogger, type LogFormat, type Logger, type LogLevel } from './log.ts';

export interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The global options (--log-level, --log-format) as seen from any subcommand. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<Partial<GlobalOptions>>();
  return { logLevel: o.logLevel ?? 'info', logFormat: o.logFormat ?? 'json' };
}

/** The root logger configured by the global options. */
export function commandLogger(cmd: Command): Logger {
  const g = globalOptions(cmd);
  return createLogger({ level: g.logLevel, format: g.logFormat });
}

/** Writes to stdout, resolving once the data is flushed (so a piped `| head` never truncates silently). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
