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
 * A source reading `options.stream` (default process.stdin). Acks are not tracked: there is
 * nothing to checkpoint. Entry ids are "stdin:<process start ms>:<byte offset>".
 * @example createStdin({ type: 'stdin', max_line_bytes: 1024 }, ctx, { stream: Readable.from(['a\nb\n']) })
 */
export function createStdin(config: StdinConfig, ctx: ComponentContext, options: StdinOptions = {}): Source {
  return {
    async run(emit: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
      const stream = options.stream ?? process.stdin;
      const lines = new LineSplitter(config.max_line_bytes);
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
      let offset = 0;
      const chunks = stream.iterator({ destroyOnReturn: false });
      const aborted = new Promise<IteratorResult<unknown>>((resolve) => {
        if (signal.aborted) resolve({ done: true, value: undefined });
        signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
      });
      try {
        for (;;) {
          const next = await Promise.race([chunks.next(), aborted]);
          if (next.done === true || signal.aborted) break;
          const chunk: unknown = next.value;
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer;
          ts = new Date().toISOString();
          lines.push(buf, offset, onLine);
          offset += buf.length;
          await send(buf.length);
        }
      } catch (err) {
        if (!signal.aborted) ctx.log.warn({ err }, 'cannot read stdin');
      } finally {
        void chunks.return?.().catch(() => undefined);
      }
      if (signal.aborted) return;
      ts = new Date().toISOString();
      lines.flush(onLine);
      await send(0);
    },
  };
}
