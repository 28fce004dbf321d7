import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { expandGlobs, globBase } from './glob.ts';

test('expandGlobs: includes minus excludes, sorted, nothing for no match', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-glob-'));
  mkdirSync(join(dir, 'sub'));
  for (const f of ['b.log', 'a.log', 'a.log.gz', 'sub/c.log']) writeFileSync(join(dir, f), '');
  assert.deepEqual(await expandGlobs([join(dir, '**/*.log*')], [join(dir, '*.gz')]), [join(dir, 'a.log'), join(dir, 'b.log'), join(dir, 'sub/c.log')]);
  assert.deepEqual(await expandGlobs([join(dir, 'none/*.log')], []), []);
  rmSync(dir, { recursive: true, force: true });
});

test('globBase: the fixed directory to watch', () => {
  assert.deepEqual(globBase('/var/log/app/*.log'), { dir: '/var/log/app', recursive: false });
  assert.deepEqual(globBase('/var/log/**/*.log'), { dir: '/var/log', recursive: true });
  assert.deepEqual(globBase('/var/log/syslog'), { dir: '/var/log', recursive: false });
  assert.deepEqual(globBase('*.log'), { dir: '.', recursive: false });
});
