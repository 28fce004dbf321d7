// A whole scrape: golden file from the fixture trees, failing collectors, shared collections, promtool.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { silentLogger } from '../core/log.ts';
import { requireTool } from '../../test/helpers/tools.ts';
import { collectors, createCollectors } from './collectors/index.ts';
import { Scraper } from './scrape.ts';

const fixture = fileURLToPath(new URL('testdata/fixture', import.meta.url));
const golden = new URL('testdata/fixture.golden.prom', import.meta.url);
const log = silentLogger();

/** Values that depend on the moment or the machine, replaced so the golden file is stable. */
function normalise(text: string): string {
  return text.split(fixture).join('<fixture>')
    .replace(/^(node_scrape_collector_duration_seconds\{.*\}) .*$/gm, '$1 <duration>')
    .replace(/^(node_filesystem_(?:size_bytes|free_bytes|avail_bytes|files|files_free)\{.*\}) .*$/gm, '$1 <statfs>')
    .replace(/^(node_textfile_mtime_seconds\{.*\}) .*$/gm, '$1 <mtime>')
    .replace(/machine="[^"]*"/g, 'machine="<machine>"');
}

test('a whole scrape of the fixture trees matches the golden file', async () => {
  const names = Object.keys(collectors).filter((n) => n !== 'time');
  const built = createCollectors(names, {
    procfs: `${fixture}/proc`, sysfs: `${fixture}/sys`, rootfs: `${fixture}/root`, textfileDirectory: `${fixture}/textfile`, log,
  });
  const text = normalise(await new Scraper({ collectors: built, log }).scrape());
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
  assert.equal(text, readFileSync(golden, 'utf8'), 'run with UPDATE_GOLDEN=1 to accept a deliberate change');
  assert.doesNotMatch(text, /node_scrape_collector_success\{collector="[^"]+"\} 0/, 'every collector succeeds on the fixtures');
});

test('a collector that throws reports success 0 and the scrape goes on', async () => {
  const scraper = new Scraper({
    log,
    collectors: new Map([
      ['broken', { collect: () => { throw new Error('boom'); } }],
      ['fine', { collect: () => [{ name: 'node_fine', help: 'ok', type: 'gauge' as const, samples: [{ value: 1 }] }] }],
    ]),
  });
  const text = await scraper.scrape();
  assert.match(text, /^node_scrape_collector_success\{collector="broken"\} 0$/m);
  assert.match(text, /^node_scrape_collector_success\{collector="fine"\} 1$/m);
  assert.match(text, /^node_scrape_collector_duration_seconds\{collector="broken"\} \d/m);
  assert.match(text, /^node_fine 1$/m);
});

test('concurrent scrapes share one collection; the next scrape collects again', async () => {
  let calls = 0;
  const scraper = new Scraper({
    log,
    collectors: new Map([['slow', {
      collect: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 30));
        return [{ name: 'node_calls', help: 'calls', type: 'counter' as const, samples: [{ value: calls }] }];
      },
    }]]),
  });
  const [a, b, c] = await Promise.all([scraper.scrape(), scraper.scrape(), scraper.scrape()]);
  assert.equal(calls, 1);
  assert.equal(a, b);
  assert.equal(b, c);
  await scraper.scrape();
  assert.equal(calls, 2);
});

test('promtool check metrics passes on a real scrape of this host (meminfo camelCase only)', async (t) => {
  const promtool = requireTool(t, 'promtool', 'prometheus');
  if (!promtool) return;
  const built = createCollectors(Object.keys(collectors), { procfs: '/proc', sysfs: '/sys', rootfs: '/', log });
  const text = await new Scraper({ collectors: built, log }).scrape();
  assert.match(text, /^node_memory_MemTotal_bytes \d/m);
  const lint = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const problems = `${lint.stdout}${lint.stderr}`.split('\n')
    .filter((l) => l.trim() !== '')
    // node_exporter's own documented exception: /proc/meminfo field names keep their kernel spelling.
    .filter((l) => !/^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$/.test(l));
  assert.deepEqual(problems, []);
});
