// End to end: the command tree, help, version, the built package, and which commands hold SIGHUP.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { globalValueOptions, reloadsOnSighup } from '../src/cli.ts';
import { createProgram } from '../src/program.ts';
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

test('the entry holds SIGHUP for the commands that reload, found from argv past the global options', () => {
  for (const argv of [
    ['ship', '--config', 'ship.toml'], ['up'], ['probe', 'serve', '--config', 'p.toml'],
    ['--log-level', 'debug', 'ship'], ['--log-format=pretty', 'up'], ['--log-format', 'pretty', '--log-level', 'warn', 'probe', 'serve'],
    ['probe', '--timeout', '2s', 'serve'], ['ship', '--help'],
  ]) assert.equal(reloadsOnSighup(argv), true, argv.join(' '));
  for (const argv of [
    [], ['ps', '--watch'], ['--log-level', 'debug', 'ps', '--watch'], ['probe', 'https://example.com'], ['agent'], ['oom', 'watch'],
    ['help', 'ship'], ['version'], ['--log-level', 'up', 'ps'], ['--', 'ship'],
  ]) assert.equal(reloadsOnSighup(argv), false, argv.join(' '));
});

test('the commands held for are exactly those whose help says SIGHUP reloads', () => {
  const walk = (cmd: Command, path: string[]): Array<[string[], Command]> =>
    [[path, cmd], ...cmd.commands.flatMap((c) => walk(c, [...path, c.name()]))];
  const program = createProgram();
  for (const [path, cmd] of walk(program, [])) {
    let help = '';
    cmd.configureOutput({ writeOut: (text) => { help += text; } });
    cmd.outputHelp();
    assert.equal(reloadsOnSighup(path), /SIGHUP/.test(help), `opsctl ${path.join(' ')}: help and the entry's list agree`);
  }
  // The entry skips the value of every global option that takes one.
  const valued = program.options.filter((o) => o.required || o.optional).map((o) => o.long);
  assert.deepEqual([...globalValueOptions].sort(), valued.sort());
});
