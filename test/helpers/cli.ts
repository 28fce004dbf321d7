// Spawns the opsctl CLI from the sources, as a user would run it, and collects its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `opsctl ...args` to completion (killed after timeoutMs) and returns its exit code and output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return collect(startCli(args, options), options.timeoutMs ?? 20_000);
}

/** Starts `opsctl ...args` in the background (`nodeArgs` go to node, before the script); the caller stops it. */
export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {}): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a child to exit, killing it after timeoutMs, and returns what it printed. */
export function collect(child: ChildProcess, timeoutMs = 20_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const stderrSoFar = new WeakMap<ChildProcess, { text: string }>();

/** Starts recording a child's stderr so waitForLine can look back at lines already printed. */
function record(child: ChildProcess): { text: string } {
  let rec = stderrSoFar.get(child);
  if (!rec) {
    const r = { text: '' };
    child.stderr?.on('data', (chunk: Buffer | string) => { r.text += chunk.toString(); });
    stderrSoFar.set(child, r);
    rec = r;
  }
  return rec;
}

/** Resolves with the `nth` stderr line (printed so far or later) matching `pattern`; rejects after timeoutMs or on exit. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000, nth = 1): Promise<string> {
  const rec = record(child);
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const line = rec.text.split('\n').filter((l) => pattern.test(l))[nth - 1];
      if (line === undefined) return false;
      cleanup();
      resolve(line);
      return true;
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${String(pattern)}; stderr so far:\n${rec.text}`)); }, timeoutMs);
    const onData = (): void => { setImmediate(check); };
    const onExit = (): void => { if (!check()) { cleanup(); reject(new Error(`exited before ${String(pattern)}; stderr:\n${rec.text}`)); } };
    const cleanup = (): void => { clearTimeout(timer); child.stderr?.off('data', onData); child.off('exit', onExit); };
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
    check();
  });
}
