// End to end: the command tree, help, version and the built package.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createProgram } from '../src/cli.ts';
import { repoRoot, runCli } from './helpers/cli.ts';

test('every command has a description and help with examples', async () => {
  const walk = (cmd: ReturnType<typeof createProgram>, path: string[]): string[][] =>
    [[...path, cmd.name()], ...cmd.commands.flatMap((c) => walk(c, [...path, cmd.name()]))];
  const paths = walk(createProgram(), []).map((p) => p.slice(1)).filter((p) => p.length > 0);
  assert.ok(paths.length >= 6, `commands: ${paths.map((p) => p.join(' ')).join(', ')}`);
  for (const path of paths) {
    const res = await runCli([...path, '--help']);
    assert.equal(res.code, 0, `${path.join(' ')} --help`);
    assert.match(res.stdout, /Examples?:/, `${path.join(' ')} --help shows examples`);
  }
});

test('version --json reports version, commit, Node and platform', async () => {
  const res = await runCli(['version', '--json']);
  assert.equal(res.code, 0, res.stderr);
  const v = JSON.parse(res.stdout) as Record<string, string>;
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(v.version, pkg.version);
  assert.equal(v.node, process.version);
  assert.equal(v.platform, `${process.platform}/${process.arch}`);
  const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: repoRoot }).toString().trim();
  assert.ok(v.commit?.startsWith(head), `commit ${v.commit} is HEAD ${head}`);
});

test('an unknown command or option exits 64', async () => {
  assert.equal((await runCli(['nope'])).code, 64);
  assert.equal((await runCli(['ps', '--nope'])).code, 64);
});
