// What every command's action needs from the global options: a logger, and output helpers.
// Kept free of heavy imports: `opsctl ps` and `--help` must not load the logging or HTTP stacks.
import type { Command } from 'commander';
import type { Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

export interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The global options (--log-level, --log-format) as seen from any subcommand. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<Partial<GlobalOptions>>();
  return { logLevel: o.logLevel ?? 'info', logFormat: o.logFormat ?? 'json' };
}

/** The root logger configured by the global options (loads pino on first use). */
export async function commandLogger(cmd: Command): Promise<Logger> {
  const { createLogger } = await import('./log.ts');
  const g = globalOptions(cmd);
  return createLogger({ level: g.logLevel, format: g.logFormat });
}

/** Writes to stdout, resolving once the data is flushed (so a piped `| head` never truncates silently). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
