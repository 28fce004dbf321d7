// The console sink: entries on stdout or stderr, as NDJSON or as readable text lines.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { errnoCode } from '../../core/errors.ts';
import { DeliveryError } from '../../core/retry.ts';
import { palette, useColor, type Palette } from '../../core/tty.ts';
import { sinkKeys } from '../schema.ts';
import type { Definition, Level, LogEntry, SinkWriter } from '../types.ts';
import { attemptError, attemptSignal, encodeLines, type MeasuredWriter, type OnBadEntry } from './writer.ts';

const schema = z.strictObject({
  type: z.literal('console'),
  ...sinkKeys,
  /** json: one JSON object per line; text: `<timestamp> <LEVEL> <source> <message>`. */
  encoding: z.enum(['json', 'text']).default('json'),
  target: z.enum(['stdout', 'stderr']).default('stdout'),
});
export type ConsoleConfig = z.output<typeof schema>;

export interface ConsoleWriterOptions {
  encoding: ConsoleConfig['encoding'];
  stream: Writable;
  /** Colour the level in text lines. */
  color: boolean;
  onBad: OnBadEntry;
  /** Longest wait for a reader that stopped reading (request_timeout); default: only the write's signal. */
  timeoutMs?: number | undefined;
}

/** One text line (without the newline): `2026-11-22T10:00:00.000Z INFO /var/log/app.log started`. */
export function textLine(entry: LogEntry, colors: Palette): string {
  return `${entry.timestamp} ${paintLevel(entry.level, colors)} ${entry.source} ${entry.message}`;
}

function paintLevel(level: Level, colors: Palette): string {
  const name = level.toUpperCase();
  switch (level) {
    case 'fatal':
    case 'error': return colors.red(name);
    case 'warn': return colors.yellow(name);
    case 'info': return colors.green(name);
    case 'debug':
    case 'trace': return colors.dim(name);
    default: return name;
  }
}

/**
 * A writer to any stream. A write resolves once the stream took the text (its callback) and has
 * drained; a closed reader (EPIPE) is not retryable, since stdout does not come back.
 */
export function createConsoleWriter(options: ConsoleWriterOptions): MeasuredWriter {
  const { stream, encoding, onBad } = options;
  const colors = palette(options.color);
  let failed: unknown;
  // Without a listener an EPIPE on stdout would crash the process; the write callback reports it.
  const onError = (err: unknown): void => { failed ??= err; };
  stream.on('error', onError);
  const writer: MeasuredWriter = {
    async write(entries, outer) {
      if (entries.length === 0) return;
      const signal = options.timeoutMs === undefined ? outer : attemptSignal(outer, options.timeoutMs);
      if (failed !== undefined) throw streamError(failed);
      const text = encoding === 'json' ? encodeLines(entries, 'ndjson', onBad) : entries.map((e) => textLine(e, colors)).join('\n') + '\n';
      try {
        await new Promise<void>((resolve, reject) => {
          // A reader that stopped reading holds the callback back: the signal (timeout, shutdown) ends the wait.
          const onAbort = (): void => { reject(signal.reason as Error); };
          signal.addEventListener('abort', onAbort, { once: true });
          stream.write(text, (err) => {
            signal.removeEventListener('abort', onAbort);
            if (err) reject(err); else resolve();
          });
        });
        if (stream.writableNeedDrain) await once(stream, 'drain', { signal });
      } catch (err) {
        throw streamError(err);
      }
      writer.lastBytes = Buffer.byteLength(text);
    },
    close() {
      stream.off('error', onError);
      return Promise.resolve();
    },
  };
  return writer;
}

function streamError(err: unknown): DeliveryError {
  const code = errnoCode(err);
  if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END') {
    return new DeliveryError(`console ${code}`, { retryable: false, details: { error: code }, cause: err });
  }
  return attemptError(err);
}

/** `[sinks.out] type = "console"`: see the schema for keys and defaults. */
export const console = {
  schema,
  create(config, ctx): MeasuredWriter {
    const fd = config.target === 'stderr' ? 2 : 1;
    return createConsoleWriter({
      encoding: config.encoding,
      stream: fd === 2 ? process.stderr : process.stdout,
      color: useColor(fd),
      timeoutMs: config.request_timeout,
      onBad: () => { ctx.counters.error('encode'); },
    });
  },
} satisfies Definition<typeof schema, SinkWriter>;
