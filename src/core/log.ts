// The pino root logger: JSON by default, pretty on request; always on stderr so stdout stays for output.
import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './command.ts';
import { useColor } from './tty.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** File descriptor to write to (default 2, stderr). */
  fd?: number;
}

/**
 * Creates the root logger. Children carry context: `log.child({ module: 'oom' })`.
 * Messages are short and fixed; data goes in fields.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const fd = options.fd ?? 2;
  if (options.format === 'pretty') {
    // Loaded only when asked for: it costs a long-running JSON-logging service ~5 MB for nothing.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    const stream = pretty({ destination: fd, sync: true, colorize: useColor(fd), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    return pino({ level, base: undefined }, stream);
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd, sync: true }));
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
