// The stdin source: lines of the standard input (or an injected stream), one batch per chunk, until EOF.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { size } from '../../core/config.ts';
import { Ack } from '../ack.ts';
import type { Batch, ComponentContext, Definition, LogEntry, Source } from '../types.ts';
import { INVALID_UTF8, LineSplitter, TRUNCATED } from './file/lines.ts';

const schema = z.strictObject({
  type: z.literal('stdin'),
  /** Longer lines are cut to this many bytes (fields.truncated). */
  max_line_bytes: size().prefault('1MiB'),
});

type StdinConfig = z.output<typeof schema>;

/** Options not in the config (tests inject a stream). */
export interface StdinOptions {
  stream?: Readable;
}

/** A stdin source's definition; `createStdin` takes a stream for tests. */
export const stdin = {
  schema,
  create: (config, ctx) => createStdin(config, ctx),
} satisfies Definition<typeof schema, Source>;

const processStart = Math.round(performance.timeOrigin);

/**
 * Where reading a stream stands, kept between the sources that read it one after the other (a
 * reload replaces the source, not the process's stdin): the iterator with a read that may still
 * be pending, the partial last line and the offset. Nothing read is lost across a reload.
 */
interface Cursor {
  chunks: AsyncIterator<unknown>;
  pending: Promise<IteratorResult<unknown>> | undefined;
  lines: LineSplitter;
  maxLineBytes: number;
  offset: number;
}

const cursors = new WeakMap<Readable, Cursor>();

/**
 * Ends reading `stream` for good (the shipper stops): a read still pending would keep the process
 * alive while the writer of a pipe stays silent (`tail -f app.log | opsctl ship`).
 */
export function releaseStdin(stream: Readable = process.stdin): void {
  const cursor = cursors.get(stream);
  if (cursor === undefined) return;
  cursors.delete(stream);
  stream.destroy();
}

/**
 * A source reading `options.stream` (default process.stdin). Acks are not tracked: there is
 * nothing to checkpoint. Entry ids are "stdin:<process start ms>:<byte offset>".
 * @example createStdin({ type: 'stdin', max_line_bytes: 1024 }, ctx, { stream: Readable.from(['a\nb\n']) })
 */
export function createStdin(config: StdinConfig, ctx: ComponentContext, options: StdinOptions = {}): Source {
  return {
    async run(emit: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
      const stream = options.stream ?? process.stdin;
      const prefix = `stdin:${processStart}:`;
      let out: LogEntry[] = [];
      let ts = '';
      const onLine = (text: string, start: number, _end: number, flags: number, originalBytes: number): void => {
        const fields: Record<string, unknown> = {};
        if (flags & TRUNCATED) {
          fields.truncated = true;
          fields.original_bytes = originalBytes;
          ctx.counters.error('truncated');
        }
        if (flags & INVALID_UTF8) {
          fields.invalid_utf8 = true;
          ctx.counters.error('invalid_utf8');
        }
        out.push({ id: prefix + String(start), timestamp: ts, source: 'stdin', level: 'unknown', message: text, fields });
      };
      const send = async (bytes: number): Promise<void> => {
        ctx.counters.received(out.length, bytes);
        if (out.length === 0) return;
        const entries = out;
        out = [];
        await emit({ entries, ack: new Ack(undefined, { replayable: false }) });
      };
      let cursor = cursors.get(stream);
      if (cursor === undefined) {
        cursor = { chunks: stream.iterator({ destroyOnReturn: false }), pending: undefined, lines: new LineSplitter(config.max_line_bytes), maxLineBytes: config.max_line_bytes, offset: 0 };
        cursors.set(stream, cursor);
      } else if (cursor.maxLineBytes !== config.max_line_bytes) {
        // A reload changed the line limit: the partial line so far ends here as a line of its own.
        ts = new Date().toISOString();
        cursor.lines.flush(onLine);
        cursor.lines = new LineSplitter(config.max_line_bytes);
        cursor.maxLineBytes = config.max_line_bytes;
        await send(0);
      }
      const aborted = new Promise<undefined>((resolve) => {
        if (signal.aborted) resolve(undefined);
        signal.addEventListener('abort', () => { resolve(undefined); }, { once: true });
      });
      try {
        for (;;) {
          cursor.pending ??= cursor.chunks.next();
          // On abort the pending read stays with the cursor: the next source gets what it brings.
          const next = await Promise.race([cursor.pending, aborted]);
          if (next === undefined || signal.aborted) return;
          cursor.pending = undefined;
          if (next.done === true) break;
          const chunk: unknown = next.value;
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer;
          ts = new Date().toISOString();
          cursor.lines.push(buf, cursor.offset, onLine);
          cursor.offset += buf.length;
          await send(buf.length);
        }
      } catch (err) {
        cursor.pending = undefined;
        if (!signal.aborted) ctx.log.warn({ err }, 'cannot read stdin');
      }
      if (signal.aborted) return;
      cursors.delete(stream);
      ts = new Date().toISOString();
      cursor.lines.flush(onLine);
      await send(0);
    },
  };
}
