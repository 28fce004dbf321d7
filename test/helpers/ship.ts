// Runs `opsctl ship` for the end-to-end tests: a temp workspace, the CLI started on a config and
// waited for until it listens, its /metrics read, and lines appended to tailed files.
import type { ChildProcess } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

/** A TOML string (JSON's escaping is valid in TOML basic strings). */
export const q = (s: string): string => JSON.stringify(s);

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
