// Builds dist/: type-checks and emits JavaScript with tsc, then embeds the git commit and build date.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
rmSync(new URL('dist', root), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [new URL('node_modules/typescript/bin/tsc', root).pathname, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('build failed: tsc reported the errors above');
  process.exit(1);
}

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  if (dirty.length > 0) commit += '-dirty';
} catch {
  // Not a git checkout (a source tarball): the commit stays unknown.
}
const info = { commit, buildDate: new Date().toISOString() };
writeFileSync(new URL('dist/build-info.json', root), `${JSON.stringify(info, null, 2)}\n`);
console.log(`built dist/ (commit ${info.commit})`);
