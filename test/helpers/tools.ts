// Finding the real tools integration tests run (installed by .ci/run from Debian packages).
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/** Path of a command on PATH, or undefined. */
export function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * The tool's path; when it is missing, fails the test under CI (where .ci/run must have installed
 * it) and skips it elsewhere, saying which Debian package provides it.
 */
export function requireTool(t: TestContext, command: string, debianPackage: string): string | undefined {
  const path = which(command);
  if (path) return path;
  const why = `${command} not found: apt-get install ${debianPackage} (.ci/run installs it)`;
  if (process.env.CI) throw new Error(why);
  t.skip(why);
  return undefined;
}
