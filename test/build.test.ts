// The published form: `npm run build` emits dist/, and bin/opsctl.js runs it the same as the sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers/cli.ts';

test('the build runs like the sources and embeds the commit', () => {
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build.ts')], { cwd: repoRoot, stdio: 'pipe', timeout: 120_000 });
  assert.ok(existsSync(join(repoRoot, 'dist/cli.js')));
  const info = JSON.parse(readFileSync(join(repoRoot, 'dist/build-info.json'), 'utf8')) as { commit: string; buildDate: string };
  const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot }).toString().trim();
  assert.ok(info.commit.startsWith(head));
  const bin = join(repoRoot, 'bin/opsctl.js');
  const version = JSON.parse(execFileSync(process.execPath, [bin, 'version', '--json']).toString()) as Record<string, string>;
  assert.equal(version.commit, info.commit);
  assert.equal(version.buildDate, info.buildDate);
  const list = JSON.parse(execFileSync(process.execPath, [bin, 'ps', '--json', '-o', 'pid,name', '--no-sample']).toString()) as Array<{ pid: number }>;
  assert.ok(list.some((p) => p.pid === 1));
  const text = readFileSync(join(repoRoot, 'dist/cli.js'), 'utf8');
  assert.doesNotMatch(text, /from '\.\/[^']+\.ts'/, 'relative imports are rewritten to .js');
});
