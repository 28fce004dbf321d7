// `opsctl ps` and `opsctl snapshot`: the CLI over src/proc. Reading and rendering live in their own files.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeOut } from '../core/command.ts';
import { OpsError } from '../core/errors.ts';
import { palette, useColor } from '../core/tty.ts';
import { parseDurationMs } from '../core/units.ts';
import { fieldNames, fields, type FieldName, type ProcessInfo } from './process.ts';
import { ProcFs } from './procfs.ts';
import { compileFilter, defaultColumns, defaultTreeColumns, parseColumns, parseSort, queryProcesses, type QueryOptions } from './ps.ts';
import { renderCsv, renderJson, renderNdjson, renderTable } from './render.ts';
import { CpuSampler } from './sampler.ts';
import { buildForest } from './tree.ts';

interface PsFlags {
  output?: string;
  sort?: string;
  limit?: number;
  filter?: string;
  tree?: boolean;
  json?: boolean;
  ndjson?: boolean;
  csv?: boolean;
  watch?: boolean;
  interval: number;
  sample: boolean;
  highlightCpu: number;
  wide?: boolean;
  header: boolean;
  fields?: boolean;
  'path.procfs': string;
}

const durationArg = (value: string): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 200ms, 2s or 1m');
  return ms;
};
const countArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};
const percentArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a percentage such as 50');
  return n;
};

export function psCommand(): Command {
  return new Command('ps')
    .description('list processes: table, tree, filter expressions, JSON/NDJSON/CSV, live watch')
    .option('-o, --output <fields>', 'comma-separated columns (see --fields)')
    .option('--sort <keys>', 'sort keys, "-" for descending, e.g. -cpu,pid')
    .option('--limit <n>', 'show at most n processes (after sorting)', countArg)
    .option('-f, --filter <expr>', 'keep processes matching an expression, e.g. "cpu>50 && user==\'root\'"')
    .option('-t, --tree', 'show a process forest (children under parents)')
    .option('--json', 'print a JSON array (all fields unless -o)')
    .option('--ndjson', 'print one JSON object per line (all fields unless -o)')
    .option('--csv', 'print CSV with a header row (all fields unless -o)')
    .option('-w, --watch', 'refresh like top until Ctrl-C (every --interval, default 2s)')
    .option('--interval <duration>', 'CPU sample interval (watch: refresh period)', durationArg, 200)
    .option('--no-sample', 'do not sample CPU: %CPU is the lifetime average, as ps shows it')
    .option('--highlight-cpu <percent>', 'on a terminal, highlight rows above this %CPU', percentArg, 50)
    .option('--wide', 'do not cut lines to the terminal width')
    .option('--no-header', 'omit the header row')
    .option('--fields', 'list the fields usable in -o, --sort and --filter, then exit')
    .option('--path.procfs <dir>', 'procfs mount point', '/proc')
    .addHelpText('after', `
Filter expressions: fields compared with == != < <= > >= ~ (regex) !~, "in [..]", && || !,
with sizes (200MiB) and durations (5m, in seconds) as numbers. See docs/expressions.md.

Examples:
  opsctl ps --tree --filter "ppid==$$"                 your shell's children
  opsctl ps --filter "cpu>50 && user=='root'"          busy root processes
  opsctl ps --filter "unit~'nginx'" -o pid,unit,rss,cmd
  opsctl ps --filter "rss>200MiB" --sort -rss --limit 10
  opsctl ps --json | jq '.[] | select(.threads > 100)'
  opsctl ps --watch --sort -cpu`)
    .action(async (flags: PsFlags) => {
      if (flags.fields) return writeOut(fieldNames.map((n) => `${n.padEnd(12)} ${fields[n].help}`).join('\n') + '\n');
      await runPs(flags);
    });
}

async function runPs(flags: PsFlags): Promise<void> {
  const formats = [flags.json, flags.ndjson, flags.csv].filter(Boolean).length;
  if (formats > 1) throw new OpsError('OPS_ERR_USAGE', 'choose one of --json, --ndjson and --csv');
  if (flags.watch && formats > 0) throw new OpsError('OPS_ERR_USAGE', '--watch draws a table; it cannot be combined with --json, --ndjson or --csv');
  const machine = formats > 0;
  const columns = flags.output !== undefined ? parseColumns(flags.output) : machine ? fieldNames : flags.tree ? defaultTreeColumns : defaultColumns;
  const query: QueryOptions = {
    columns,
    filter: flags.filter !== undefined ? compileFilter(flags.filter) : undefined,
    sort: flags.sort !== undefined ? parseSort(flags.sort) : [],
    limit: flags.limit,
    intervalMs: flags.sample ? flags.interval : 0,
  };
  const procfs = new ProcFs({ root: flags['path.procfs'] });
  if (flags.watch) return watch(procfs, query, flags);
  const list = await queryProcesses(procfs, query);
  if (flags.json) return writeOut(renderJson(list, columns));
  if (flags.ndjson) return writeOut(renderNdjson(list, columns));
  if (flags.csv) return writeOut(renderCsv(list, columns));
  return writeOut(table(list, columns, flags));
}

function table(list: ProcessInfo[], columns: readonly FieldName[], flags: PsFlags, maxRows?: number): string {
  const color = useColor(1);
  const width = flags.wide || !process.stdout.isTTY ? undefined : process.stdout.columns;
  const rows = flags.tree ? buildForest(list) : list;
  return renderTable(maxRows === undefined ? rows : rows.slice(0, maxRows), {
    columns, width, palette: palette(color), highlightCpu: color ? flags.highlightCpu : undefined, header: flags.header,
  });
}

/** Redraws the table every interval until Ctrl-C; on a terminal, in the alternate screen like top. */
async function watch(procfs: ProcFs, query: QueryOptions, flags: PsFlags): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = process.stdout.isTTY;
  const period = flags.interval === 200 ? 2000 : Math.max(100, flags.interval);
  const sampler = new CpuSampler(procfs);
  sampler.mark();
  if (tty) await writeOut('\x1b[?1049h\x1b[?25l');
  try {
    for (;;) {
      await sleep(period, undefined, { signal: controller.signal });
      const list = await queryProcesses(procfs, { ...query, intervalMs: flags.sample ? period : 0 }, sampler);
      const header = `opsctl ps  ${new Date().toLocaleTimeString()}  ${list.length} processes  (Ctrl-C to quit)\n`;
      const rows = tty ? Math.max(1, (process.stdout.rows || 24) - 3) : undefined;
      await writeOut((tty ? '\x1b[H\x1b[2J' : '\n') + header + table(list, query.columns, flags, rows));
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) await writeOut('\x1b[?25h\x1b[?1049l');
  }
}

export function snapshotCommand(): Command {
  const snapshot = new Command('snapshot')
    .description('write a JSON snapshot of the host and every process; compare two with "diff"')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--interval <duration>', 'CPU sample interval', durationArg, 200)
    .option('--path.procfs <dir>', 'procfs mount point', '/proc')
    .addHelpText('after', `
Examples:
  opsctl snapshot -o before.json
  opsctl snapshot -o after.json
  opsctl snapshot diff before.json after.json`)
    .action(async (flags: { out?: string; interval: number; 'path.procfs': string }) => {
      const { takeSnapshot } = await import('./snapshot.ts');
      const snap = await takeSnapshot(new ProcFs({ root: flags['path.procfs'] }), flags.interval);
      const text = `${JSON.stringify(snap, null, 2)}\n`;
      if (flags.out === undefined) return writeOut(text);
      writeFileSync(flags.out, text);
      process.stderr.write(`wrote ${flags.out}: ${snap.processes.length} processes\n`);
    });
  snapshot.command('diff')
    .description('compare two snapshots: processes started and gone, largest CPU and RSS changes')
    .argument('<before>', 'the older snapshot file')
    .argument('<after>', 'the newer snapshot file')
    .option('--json', 'print the diff as JSON')
    .addOption(new Option('--top <n>', 'how many CPU and RSS changes to list').argParser(countArg).default(10))
    .addHelpText('after', '\nExample:\n  opsctl snapshot diff before.json after.json --top 5')
    .action(async (before: string, after: string, flags: { json?: boolean; top: number }) => {
      const { diffSnapshots, readSnapshot, renderDiff } = await import('./snapshot.ts');
      const diff = diffSnapshots(readSnapshot(before), readSnapshot(after), flags.top);
      return writeOut(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : renderDiff(diff));
    });
  return snapshot;
}
