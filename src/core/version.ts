// Version and build facts: embedded in dist/build-info.json by the build, or read from git in a checkout.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface VersionInfo {
  version: string;
  commit: string;
  buildDate: string;
  node: string;
  platform: string;
}

let cached: VersionInfo | undefined;

/** Facts about this build of opsctl. Never throws: unknown parts read "unknown". */
export function versionInfo(): VersionInfo {
  if (cached) return cached;
  const pkg = readJson(new URL('../../package.json', import.meta.url)) as { version?: string } | undefined;
  const build = readJson(new URL('../build-info.json', import.meta.url)) as { commit?: string; buildDate?: string } | undefined;
  cached = {
    version: pkg?.version ?? 'unknown',
    commit: build?.commit ?? gitCommit() ?? 'unknown',
    buildDate: build?.buildDate ?? 'unknown',
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
  return cached;
}

function readJson(url: URL): unknown {
  try {
    return JSON.parse(readFileSync(url, 'utf8'));
  } catch {
    return undefined;
  }
}

function gitCommit(): string | undefined {
  try {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const out = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 });
    return out.toString().trim() + (dirty.length > 0 ? '-dirty' : '');
  } catch {
    return undefined;
  }
}
