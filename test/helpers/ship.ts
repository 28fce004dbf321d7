// Runs `opsctl ship` for the end-to-end tests: a temp workspace, the CLI started on a config and
// waited for until it listens, its /metrics read, and lines appended to tailed files.
import type { ChildProcess } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, startCli, waitForLine, type CliResult } from './cli.ts';
import { seqLine } from './receiver.ts';

/** A temp dir with logs/ and data/, removed when the test ends. */
export function workspace(t: { after(fn: () => unknown): void }, prefix = 'opsctl-ship-'): { dir: string; logs: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const logs = join(dir, 'logs');
  const data = join(dir, 'data');
  mkdirSync(logs);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, logs, data };
}

/** workspace() plus `log`, an empty logs/app.log, and `file`, the path of its ship.toml (not written). */
export function shipWorkspace(t: { after(fn: () => unknown): void }): { dir: string; logs: string; data: string; log: string; file: string } {
  const ws = workspace(t);
  const log = join(ws.logs, 'app.log');
  writeFileSync(log, '');
  return { ...ws, log, file: join(ws.dir, 'ship.toml') };
}

/** The text of `path`, or "" when it cannot be read (it does not exist yet). */
export function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A TOML string (JSON's escaping is valid in TOML basic strings). */
export const q = (s: string): string => JSON.stringify(s);

// Pieces of a ship config (TOML text, each ending in a newline) for the tests to put together; what
// is special about a test goes in `extra`: key lines added at the end of the piece.

/** The non-empty `extra` lines, each ended by a newline. */
const keyLines = (extra: string[]): string => extra.filter((l) => l !== '').map((l) => `${l}\n`).join('');

/** `data_dir = <data>` and `listen = "127.0.0.1:0"`, then `extra` (top-level keys). */
export function shipHead(data: string, ...extra: string[]): string {
  return `data_dir = ${q(data)}\nlisten = "127.0.0.1:0"\n${keyLines(extra)}`;
}

/** `[sources.<name>]` of type "file" on `include`, with poll_interval = "100ms", then `extra`. */
export function fileSource(name: string, include: string, ...extra: string[]): string {
  return `[sources.${name}]\ntype = "file"\ninclude = [${q(include)}]\npoll_interval = "100ms"\n${keyLines(extra)}`;
}

/** `[sinks.<name>]` of type "http" taking `inputs`, posting to `url`, then `extra` (batch, retry...). */
export function httpSink(name: string, inputs: string[], url: string, ...extra: string[]): string {
  return `[sinks.${name}]\ntype = "http"\ninputs = [${inputs.map(q).join(', ')}]\nurl = ${q(url)}\n${keyLines(extra)}`;
}

export interface Shipper {
  child: ChildProcess;
  /** host:port of /metrics and /-/reload. */
  address: string;
  /** Resolves when the process ended, with its output. */
  done: Promise<CliResult>;
  /** The /metrics text. */
  metrics(): Promise<string>;
  /** Sum of the samples of `name` whose labels include every pair of `labels` (0 when none). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM, then the process's output once it exited. */
  stop(): Promise<CliResult>;
  /** SIGKILL, then the process's output once it exited. */
  kill(): Promise<CliResult>;
}

/**
 * Starts `opsctl ship --config <config> ...args` and resolves once it logged "listening"; the
 * process is killed when the test ends if it is still running.
 */
export async function startShip(
  t: { after(fn: () => unknown): void },
  config: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Shipper> {
  const child = startCli(['ship', '--config', config, ...(options.args ?? [])], { env: options.env });
  const done = collect(child, options.timeoutMs ?? 120_000);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const listening = await waitForLine(child, /"msg":"listening"/, 30_000);
  const address = (JSON.parse(listening) as { address: string }).address;
  const metrics = async (): Promise<string> => (await fetch(`http://${address}/metrics`)).text();
  return {
    child, address, done, metrics,
    metric: async (name, labels = {}) => metricValue(await metrics(), name, labels),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return done;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return done;
    },
  };
}

/** Sum of the samples of `name` (exactly, no suffix) whose labels include every pair of `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/**
 * Appends seqLine(from) .. seqLine(to - 1) to `path`, `perWrite` lines per write (one write is one
 * append, so a reader never sees half a line from a write boundary it has not reached).
 */
export async function appendSeqLines(path: string, from: number, to: number, options: { perWrite?: number; tag?: string } = {}): Promise<void> {
  const perWrite = options.perWrite ?? 500;
  for (let s = from; s < to; s += perWrite) {
    let chunk = '';
    for (let i = s; i < Math.min(to, s + perWrite); i++) chunk += `${seqLine(i, options.tag)}\n`;
    await appendFile(path, chunk);
  }
}

/** Polls `predicate` every 100 ms until it holds; rejects after timeoutMs with `what`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
