// Soak of `opsctl ship`'s at-least-once delivery: a writer appends numbered lines (rotating the
// file by rename now and then) while the shipper is killed with SIGKILL at random moments and
// restarted; at the end every line must have reached the receiver, duplicates within a bound.
//
//   node scripts/ship-soak.ts --cycles 20 --rate 5000 --max-run 2000 [--buffer disk] [--seed 42] [--keep]
import { type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCli, waitForLine } from '../test/helpers/cli.ts';
import { HttpReceiver, seqLine } from '../test/helpers/receiver.ts';

export interface SoakOptions {
  /** Kill-and-restart cycles (default 20). */
  cycles?: number;
  /** Lines written per second, all along (default 5000). */
  rate?: number;
  /** Longest a shipper runs after it listens before it is killed; the moment is uniform in [0, maxRunMs] (default 2000). */
  maxRunMs?: number;
  /** Longest pause between a kill and the next start, uniform in [0, maxDownMs] (default 300). */
  maxDownMs?: number;
  /** Rename app.log to app.<n>.log after this many lines (0: never; default 10000). */
  rotateLines?: number;
  /** The sink's batch.max_events (default 200). */
  batchEvents?: number;
  /** The sink's buffer type (default memory). */
  buffer?: 'memory' | 'disk';
  /** The file source's read_buffer in bytes (default 16384). */
  readBuffer?: number;
  /** Seed of the random kill moments (default: random, printed). */
  seed?: number;
  /** Keep the work dir (for a look at checkpoints and logs). */
  keep?: boolean;
  /** How long the last shipper may take to deliver the rest (default 60000). */
  finalTimeoutMs?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface SoakResult {
  seed: number;
  kills: number;
  /** Lines written, seq 0 .. written-1. */
  written: number;
  /** Entries received, duplicates included. */
  received: number;
  /** Distinct entry ids received. */
  unique: number;
  duplicates: number;
  /** Duplicates that arrived during each run (those of a kill show up in the run after it). */
  duplicatesPerRun: number[];
  /**
   * At each kill: entries the receiver had whose offsets the saved file checkpoint did not cover yet,
   * so the next start sends them again (with a memory buffer, the duplicates that kill causes).
   */
  lagAtKill: number[];
  /** Most duplicates allowed: kills × (batch.max_events + lines of one read chunk). */
  duplicateBound: number;
  /** Up to 20 sequence numbers never received. */
  missing: number[];
  /** Exit code of the last shipper, stopped with SIGTERM. */
  finalExit: number | null;
  /** The work dir (removed at the end unless `keep`). */
  dir: string;
  ok: boolean;
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Received distinct ids ("<prefix>:<offset>") at or past the saved checkpoint of their file (or of a file without one). */
async function uncheckpointed(checkpoints: string, rx: HttpReceiver): Promise<number> {
  const saved = new Map<string, number>();
  try {
    const data = JSON.parse(await readFile(checkpoints, 'utf8')) as { files?: Record<string, { idPrefix?: string; offset: number }> };
    for (const cp of Object.values(data.files ?? {})) if (cp.idPrefix !== undefined) saved.set(cp.idPrefix, cp.offset);
  } catch {
    // No checkpoint yet: everything received is ahead of it.
  }
  let lag = 0;
  for (const id of rx.byId.keys()) {
    const at = id.lastIndexOf(':');
    const offset = saved.get(id.slice(0, at));
    if (offset === undefined || Number(id.slice(at + 1)) >= offset) lag++;
  }
  return lag;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const cycles = options.cycles ?? 20;
  const rate = options.rate ?? 5000;
  const maxRunMs = options.maxRunMs ?? 2000;
  const maxDownMs = options.maxDownMs ?? 300;
  const rotateLines = options.rotateLines ?? 10_000;
  const batchEvents = options.batchEvents ?? 200;
  const readBuffer = options.readBuffer ?? 16_384;
  const buffer = options.buffer ?? 'memory';
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const progress = options.progress ?? (() => undefined);
  const rand = random(seed);

  const dir = await mkdtemp(join(tmpdir(), 'opsctl-ship-soak-'));
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const rx = await HttpReceiver.start();
  const config = join(dir, 'ship.toml');
  await writeFile(config, `data_dir = ${JSON.stringify(join(dir, 'data'))}
listen = "127.0.0.1:0"
[sources.app]
type = "file"
include = [${JSON.stringify(join(logs, '*.log'))}]
read_buffer = ${readBuffer}
glob_interval = "200ms"
poll_interval = "50ms"
[sinks.rx]
type = "http"
inputs = ["app"]
url = ${JSON.stringify(rx.url)}
batch = { max_events = ${batchEvents}, timeout = "50ms" }
retry = { initial_backoff = "50ms", max_backoff = "500ms" }
buffer = { type = "${buffer}" }
`);

  // The writer: `rate` lines a second in 20 ms steps, whatever the shipper is doing.
  const log = join(logs, 'app.log');
  let written = 0;
  let rotations = 0;
  let writing = true;
  const writer = (async () => {
    const started = Date.now();
    let sinceRotation = 0;
    while (writing) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      if (due > written) {
        let chunk = '';
        for (let s = written; s < due; s++) chunk += `${seqLine(s)}\n`;
        await appendFile(log, chunk);
        sinceRotation += due - written;
        written = due;
        if (rotateLines > 0 && sinceRotation >= rotateLines) {
          await rename(log, join(logs, `app.${++rotations}.log`));
          sinceRotation = 0;
        }
      }
      await sleep(20);
    }
  })();

  let child: ChildProcess | undefined;
  let kills = 0;
  const duplicatesPerRun: number[] = [];
  const lagAtKill: number[] = [];
  const checkpoints = join(dir, 'data', 'checkpoints', 'app.json');
  let duplicatesBefore = 0;
  let finalExit: number | null = null;
  try {
    const start = async (): Promise<ChildProcess> => {
      const c = startCli(['ship', '--config', config]);
      c.stdout?.resume();
      child = c;
      await waitForLine(c, /"msg":"listening"/, 30_000);
      return c;
    };
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const c = await start();
      const runMs = Math.floor(rand() * maxRunMs);
      await sleep(runMs);
      c.kill('SIGKILL');
      await exited(c);
      kills++;
      lagAtKill.push(await uncheckpointed(checkpoints, rx));
      duplicatesPerRun.push(rx.duplicates - duplicatesBefore);
      duplicatesBefore = rx.duplicates;
      progress(`cycle ${cycle}/${cycles}: killed after ${runMs} ms, ${lagAtKill.at(-1)} delivered past the checkpoint; written ${written}, received ${rx.unique} distinct, ${rx.duplicates} duplicates`);
      await sleep(Math.floor(rand() * maxDownMs));
    }
    writing = false;
    await writer;
    progress(`writer stopped at ${written} lines; last shipper delivering the rest`);
    const last = await start();
    try {
      await rx.waitForSeqs(0, written, options.finalTimeoutMs ?? 60_000);
    } catch {
      // Reported below as missing lines.
    }
    last.kill('SIGTERM');
    await exited(last);
    finalExit = last.exitCode;
    duplicatesPerRun.push(rx.duplicates - duplicatesBefore);
  } finally {
    writing = false;
    await writer.catch(() => undefined);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await rx.close();
  }

  const linesPerRead = Math.ceil(readBuffer / (seqLine(0).length + 1)) + 1;
  const duplicateBound = kills * (batchEvents + linesPerRead);
  const missing = rx.missing(0, written);
  const result: SoakResult = {
    seed, kills, written, received: rx.total, unique: rx.unique, duplicates: rx.duplicates, duplicatesPerRun, lagAtKill, duplicateBound, missing, finalExit, dir,
    ok: missing.length === 0 && rx.byMessage.size === written && rx.duplicates <= duplicateBound && finalExit === 0,
  };
  if (!options.keep) await rm(dir, { recursive: true, force: true });
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '20' },
      rate: { type: 'string', default: '5000' },
      'max-run': { type: 'string', default: '2000' },
      'max-down': { type: 'string', default: '300' },
      'rotate-lines': { type: 'string', default: '10000' },
      'batch-events': { type: 'string', default: '200' },
      'read-buffer': { type: 'string', default: '16384' },
      buffer: { type: 'string', default: 'memory' },
      seed: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const result = await runSoak({
    cycles: Number(values.cycles), rate: Number(values.rate), maxRunMs: Number(values['max-run']), maxDownMs: Number(values['max-down']),
    rotateLines: Number(values['rotate-lines']), batchEvents: Number(values['batch-events']), readBuffer: Number(values['read-buffer']),
    buffer: values.buffer === 'disk' ? 'disk' : 'memory',
    seed: values.seed === undefined ? undefined : Number(values.seed), keep: values.keep,
    progress: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
  process.exitCode = result.ok ? 0 : 1;
}
