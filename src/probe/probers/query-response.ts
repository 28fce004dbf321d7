// The tcp prober's query_response dialogue, as blackbox_exporter runs it: read lines until one
// matches `expect`, `send` a line (with the match's groups), optionally `starttls`.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { abortedReason, regex, show } from './network.ts';
import type { ProbeLog } from '../types.ts';

/** One step: `{ expect = "^220 " }`, `{ send = "EHLO probe" }`, `{ starttls = true }`, or several keys at once. */
export const queryResponseStep = z.strictObject({
  /** Read lines until one matches; the probe fails at end of stream without a match. */
  expect: regex.optional(),
  /** A line to write; "\n" is appended unless it already ends with one. `${1}` / `${name}` are groups of this step's match. */
  send: z.string().optional(),
  /** Upgrade the connection to TLS (with the module's tls_config) after this step's expect and send. */
  starttls: z.boolean().default(false),
});
export type QueryResponseStep = z.output<typeof queryResponseStep>;

/** The longest line read, as Go's bufio.Scanner (blackbox) allows. */
const maxLine = 64 * 1024;

/** Reads "\n"-terminated lines (a trailing "\r" dropped) from a socket; null at end of stream. */
export class LineReader {
  private buffer = '';
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly socket: Socket;
  private readonly signal: AbortSignal;

  constructor(socket: Socket, signal: AbortSignal) {
    this.socket = socket;
    this.signal = signal;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { this.buffer += chunk; this.poke(); });
    socket.on('end', () => { this.ended = true; this.poke(); });
    socket.on('close', () => { this.ended = true; this.poke(); });
    socket.on('error', (err) => { this.failure = err; this.poke(); });
    signal.addEventListener('abort', () => this.poke(), { once: true });
  }

  /** The next line, or null at end of stream; rejects on a socket error, an over-long line or abort. */
  async next(): Promise<string | null> {
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        return line.endsWith('\r') ? line.slice(0, -1) : line;
      }
      if (this.buffer.length > maxLine) throw new Error(`line longer than ${maxLine} bytes`);
      if (this.failure) throw this.failure;
      if (this.signal.aborted) throw this.signal.reason as Error;
      if (this.ended) {
        if (this.buffer === '') return null;
        const rest = this.buffer;
        this.buffer = '';
        return rest;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** Stops reading: data that arrives later is left to whoever reads the socket next. */
  detach(): void {
    this.socket.removeAllListeners('data');
    this.socket.pause();
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** What the dialogue found: the first line read, and why it failed if it did. */
export interface DialogueResult {
  banner?: string;
  reason?: string;
  /** An expect saw the end of the stream without a match. */
  failedDueToRegex: boolean;
}

/** Runs the steps on a connected socket. `upgrade` performs STARTTLS and returns the TLS socket. */
export async function runQueryResponse(
  socket: Socket,
  steps: readonly QueryResponseStep[],
  options: { signal: AbortSignal; log: ProbeLog; upgrade: (socket: Socket) => Promise<TLSSocket | { error: string }> },
): Promise<DialogueResult> {
  const result: DialogueResult = { failedDueToRegex: false };
  let reader = new LineReader(socket, options.signal);
  let last: string | undefined;
  for (const [i, step] of steps.entries()) {
    let match: RegExpExecArray | null = null;
    if (step.expect !== undefined) {
      try {
        for (let line = await reader.next(); line !== null; line = await reader.next()) {
          result.banner ??= line;
          last = line;
          options.log.debug('read line', { step: i, line });
          match = step.expect.exec(line);
          if (match) break;
        }
      } catch (err) {
        const waiting = `waiting for ${show(step.expect)}${last === undefined ? '' : ` (last line ${JSON.stringify(last)})`}`;
        result.reason = options.signal.aborted ? abortedReason(options.signal, waiting) : `read failed ${waiting}: ${err instanceof Error ? err.message : String(err)}`;
        return result;
      }
      if (!match) {
        result.failedDueToRegex = true;
        result.reason = `expected ${show(step.expect)}, got ${last === undefined ? 'end of stream' : JSON.stringify(last)}`;
        return result;
      }
      options.log.debug('matched', { step: i, regexp: show(step.expect) });
    }
    if (step.send !== undefined) {
      const text = expand(step.send, match);
      const line = text.endsWith('\n') ? text : `${text}\n`;
      options.log.debug('send line', { step: i, line: line.trimEnd() });
      socket.write(line);
    }
    if (step.starttls) {
      reader.detach();
      const upgraded = await options.upgrade(socket);
      if ('error' in upgraded) {
        result.reason = upgraded.error;
        return result;
      }
      socket = upgraded;
      reader = new LineReader(upgraded, options.signal);
    }
  }
  return result;
}

/**
 * Replaces `$1`, `${1}`, `$name`, `${name}` with the match's groups (empty when absent) and `$$`
 * with "$", as Go's Regexp.Expand does for blackbox_exporter.
 * @example expand('HELLO ${1}', /^HI (\w+)/.exec('HI bob')) // "HELLO bob"
 */
export function expand(template: string, match: RegExpExecArray | null): string {
  return template.replace(/\$(?:\$|\{(\w+)\}|(\w+))/g, (whole, braced?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare ?? '';
    if (match === null) return '';
    const value = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    return value ?? '';
  });
}

