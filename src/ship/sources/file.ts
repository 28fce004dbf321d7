// The file source: tails files matched by globs, follows rotation (rename and copytruncate), reads
// deleted files to their end, and checkpoints only acknowledged offsets (at-least-once).
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { duration, size } from '../../core/config.ts';
import { errnoCode } from '../../core/errors.ts';
import { CheckpointStore } from '../checkpoint.ts';
import type { Batch, ComponentContext, Definition, Source } from '../types.ts';
import { expandGlobs, globBase } from './file/glob.ts';
import { contentMatches, identityKey, legacyIdPrefix, newIdPrefix, readBefore, readFingerprint, tailOf, type TailCheckpoint } from './file/identity.ts';
import type { MultilineOptions } from './file/multiline.ts';
import { Tailer, type TruncatedContent } from './file/tailer.ts';

const regex = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'expected a valid regular expression');

const multilineSchema = z.strictObject({
  /** A line matching it starts an event; other lines continue it. */
  start_pattern: regex.optional(),
  /** A line matching it continues the pending event; other lines start one. */
  continuation_pattern: regex.optional(),
  /** A pending event is emitted after this long without a new line. */
  timeout: duration().prefault('1s'),
  /** Most lines in one event. */
  max_lines: z.number().int().positive().default(500),
}).refine((m) => (m.start_pattern === undefined) !== (m.continuation_pattern === undefined), 'set exactly one of start_pattern and continuation_pattern');

const schema = z.strictObject({
  type: z.literal('file'),
  /** Globs of files to tail. */
  include: z.array(z.string().min(1)).min(1, 'needs at least one glob'),
  /** Globs of paths to leave out. */
  exclude: z.array(z.string().min(1)).default([]),
  /** Where to start in files without a checkpoint found at startup; files appearing later are read from their start. */
  read_from: z.enum(['beginning', 'end']).default('beginning'),
  /** How often the globs are expanded again (directories are also watched, best effort). */
  glob_interval: duration().prefault('1s'),
  /** How often open files are checked for growth, truncation and deletion. */
  poll_interval: duration().prefault('250ms'),
  /** Bytes at the start of a file that, with device and inode, identify it; as many bytes before a checkpoint's offset are checked too. */
  fingerprint_bytes: z.number().int().positive().max(65_536).default(256),
  /** Longer lines are cut to this many bytes (fields.truncated). */
  max_line_bytes: size().prefault('1MiB'),
  /** Bytes read at once; a batch is at most one read of one file. */
  read_buffer: size().prefault('256KiB'),
  /** How long a file renamed away or deleted stays open after its end, for late writes. */
  rotate_wait: duration().prefault('5s'),
  /** Longest a deleted file is held open while it cannot be read to its end (sinks blocked). */
  max_deleted_hold: duration().prefault('5m'),
  /** Checkpoints of files not seen for this long are forgotten. */
  checkpoint_ttl: duration().prefault('24h'),
  /** Most checkpoints kept (the least recently updated go first). */
  max_checkpoints: z.number().int().positive().default(10_000),
  multiline: multilineSchema.optional(),
});

type FileConfig = z.output<typeof schema>;

/**
 * Where a tailer starts: a checkpoint (its offset, identity and marks) and the file's bytes before
 * the read offset; for a copy of a truncated file, the old content's batches in flight it takes
 * over (reading then starts after the last of them).
 */
interface Resume {
  cp: Pick<TailCheckpoint, 'fingerprint' | 'fingerprintBytes' | 'offset' | 'idPrefix'> & Partial<TailCheckpoint>;
  before: Buffer | undefined;
  inherit?: TruncatedContent | undefined;
}

/** How long a truncated file's old checkpoint is kept to recognise a copy of its content. */
const ORIGIN_TTL_MS = 5 * 60_000;
/** A file that starts like a known one but is shorter than its checkpoint and this recent may be a copy in progress. */
const COPY_SETTLE_MS = 2000;

/**
 * Renamed and deleted files whose source stopped for a reload, by checkpoint file: the next
 * pipeline's source with the same checkpoint file takes them over (see FileSource.handOver).
 */
const handedOver = new Map<string, Tailer[]>();

/**
 * Closes the files a reload handed over that no new source took (the source was removed, renamed
 * or given another data_dir). Called once the new pipeline was built.
 */
export async function releaseHandedOver(): Promise<void> {
  const left = [...handedOver.values()].flat();
  handedOver.clear();
  for (const t of left) await t.handOff()?.fh.close().catch(() => undefined);
}

/** The regular files directly in `dir`, with their stats ([] when it cannot be read). */
async function regularFiles(dir: string): Promise<Array<{ path: string; st: Stats }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: Array<{ path: string; st: Stats }> = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (st.isFile()) out.push({ path, st });
    } catch {
      // vanished meanwhile
    }
  }
  return out;
}

/** A file source's definition. */
export const file = {
  schema,
  // Relative globs are relative to the config file, as every other path in it.
  create: (config, ctx) => new FileSource({
    ...config, include: config.include.map((g) => resolve(ctx.configDir, g)), exclude: config.exclude.map((g) => resolve(ctx.configDir, g)),
  }, ctx),
} satisfies Definition<typeof schema, Source>;

/**
 * Tails files. Life of a file: found by a scan (new, or resumed at its checkpoint), read chunk by
 * chunk in turn with the others, detached when its path points elsewhere (rename) or it is
 * deleted, then released (partial last line emitted, handle closed) once at EOF for rotate_wait.
 * A partial last line of a live file is not emitted at shutdown: the next start reads it whole.
 */
export class FileSource implements Source {
  readonly #config: FileConfig;
  readonly #ctx: ComponentContext;
  readonly #store: CheckpointStore;
  readonly #multiline: MultilineOptions | undefined;
  readonly #tailers = new Map<string, Tailer>();
  readonly #warned = new Set<string>();
  readonly #rotated = new WeakSet<Tailer>();
  #watchers: FSWatcher[] = [];
  #wake: (() => void) | undefined;
  #rescan = false;
  #emitting = false;
  /** Set by handOver(): at the end of run, renamed and deleted files are handed to the next pipeline instead of closed. */
  #handingOver = false;
  /** Files the previous pipeline's source handed over, taken over at the start of run. */
  #handedOver: Tailer[];
  /** Checkpoints of old content (truncated files), to recognise a copy of it, with what is left in flight. */
  #origins: Array<{ cp: TailCheckpoint; at: number; content?: TruncatedContent }> = [];
  /** A new file identity was minted since the last checkpoint flush. */
  #minted = false;

  constructor(config: FileConfig, ctx: ComponentContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#store = new CheckpointStore({ file: join(ctx.dataDir, 'checkpoints', `${ctx.name}.json`), log: ctx.log, metrics: ctx.metrics });
    const ml = config.multiline;
    this.#multiline = ml && {
      startPattern: ml.start_pattern === undefined ? undefined : new RegExp(ml.start_pattern),
      continuationPattern: ml.continuation_pattern === undefined ? undefined : new RegExp(ml.continuation_pattern),
      maxLines: ml.max_lines,
    };
    this.#handedOver = handedOver.get(this.#store.file) ?? [];
    handedOver.delete(this.#store.file);
  }

  /**
   * The pipeline stops for a reload: renamed and deleted files stay open for the next pipeline's
   * source, which reads them on from their checkpoints (a deleted file could not be opened again).
   */
  handOver(): void {
    this.#handingOver = true;
  }

  async run(emit: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const cfg = this.#config;
    const buf = Buffer.allocUnsafe(cfg.read_buffer);
    const send = async (batch: Batch): Promise<void> => {
      this.#emitting = true;
      try {
        await untilAborted(emit(batch), signal);
      } finally {
        this.#emitting = false;
      }
    };
    const holdTimer = setInterval(() => void this.#checkDeletedHold(), cfg.poll_interval);
    holdTimer.unref();
    try {
      await this.#adoptHandedOver();
      await this.#scan(true);
      await this.#recoverRenamed();
      this.#watch();
      let lastScan = Date.now();
      let nextScan = lastScan + cfg.glob_interval;
      let nextPoll = Date.now() + cfg.poll_interval;
      while (!signal.aborted) {
        let now = Date.now();
        // Watch events ask for a scan sooner, but at most every 100 ms (a busy directory sends many).
        if ((this.#rescan && now >= lastScan + 100) || now >= nextScan) {
          this.#rescan = false;
          await this.#scan(false);
          lastScan = Date.now();
          nextScan = lastScan + cfg.glob_interval;
        }
        if (now >= nextPoll) {
          await this.#poll(now);
          nextPoll = Date.now() + cfg.poll_interval;
        }
        now = Date.now();
        for (const t of [...this.#tailers.values()]) {
          if (signal.aborted) break;
          if (t.pendingEvent && cfg.multiline && now - t.lastLineAt >= cfg.multiline.timeout) {
            const fb = t.flushEvent();
            if (fb.entries.length > 0) await send(t.batch(fb));
          }
          if (!t.fh || (t.eof && (t.detached || t.deletedAt !== undefined) && now - t.eofSince >= cfg.rotate_wait)) {
            if (t.fh) {
              const fb = t.finish();
              if (fb.entries.length > 0) await send(t.batch(fb));
            }
            await this.#release(t);
          }
        }
        // One pass: one chunk of each file that may have more.
        const list = [...this.#tailers.values()];
        let readAny = false;
        for (let i = 0; i < list.length && !signal.aborted; i++) {
          const t = list[i] as Tailer;
          if (t.eof || !t.fh) continue;
          const fb = await this.#read(t, buf);
          if (fb === undefined) continue;
          readAny = true;
          if (fb.entries.length > 0) await send(t.batch(fb));
        }
        if (!readAny && !signal.aborted) await this.#sleep(Math.min(cfg.poll_interval, Math.max(1, nextScan - Date.now())), signal);
      }
    } finally {
      clearInterval(holdTimer);
      for (const w of this.#watchers) w.close();
      this.#watchers = [];
      const keep: Tailer[] = [];
      for (const t of this.#tailers.values()) {
        if (this.#handingOver && t.fh && (t.detached || await isDeleted(t.fh))) keep.push(t);
        else await t.release();
      }
      if (keep.length > 0) handedOver.set(this.#store.file, keep);
      this.#tailers.clear();
      this.#gauges();
    }
  }

  async close(): Promise<void> {
    // Built but never run (the pipeline failed to start): what was handed over waits for the next one.
    if (this.#handedOver.length > 0) handedOver.set(this.#store.file, this.#handedOver);
    this.#handedOver = [];
    await this.#store.close();
  }

  async #read(t: Tailer, buf: Buffer): Promise<ReturnType<Tailer['read']>> {
    try {
      const fb = await t.read(buf);
      if (t.truncatedFrom) await this.#truncated(t);
      return fb;
    } catch (err) {
      if (!t.fh) return undefined; // released meanwhile (deleted-hold expiry)
      this.#ctx.log.warn({ err, path: t.path }, 'cannot read file');
      t.eof = true;
      t.eofSince = Date.now();
      return undefined;
    }
  }

  /** Expands the globs: opens new files, follows renames, detaches files no longer at a matched path. */
  async #scan(initial: boolean): Promise<void> {
    const cfg = this.#config;
    let paths: string[];
    try {
      paths = await expandGlobs(cfg.include, cfg.exclude);
    } catch (err) {
      this.#ctx.log.warn({ err }, 'cannot expand globs');
      return;
    }
    if (paths.length === 0) this.#ctx.log.debug({ include: cfg.include }, 'globs match no file');
    // Where each identity is now (a file seen at two paths, hard links, keeps the path it has).
    const found = new Map<string, string>();
    const atPath = new Map<string, string>();
    for (const path of paths) {
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        this.#warnOnce(path, err);
        continue;
      }
      if (!st.isFile()) continue;
      const key = identityKey(st.dev, st.ino);
      atPath.set(path, key);
      if (!found.has(key) || this.#tailers.get(key)?.path === path) found.set(key, path);
    }
    for (const t of this.#tailers.values()) {
      const path = found.get(t.key);
      const wasAt = t.path;
      if (path === undefined) {
        t.detached = true; // renamed out of the globs, or deleted
      } else {
        t.detached = false;
        if (path === wasAt) continue;
        t.moveTo(path);
      }
      const replaced = atPath.get(wasAt);
      if ((path !== undefined || (replaced !== undefined && replaced !== t.key)) && !this.#rotated.has(t)) {
        if (path === undefined) this.#rotated.add(t); // counted once, whenever its path gets a new file
        this.#ctx.metrics.fileRotations.inc({ component: this.#ctx.name, how: 'rename' });
        this.#ctx.log.debug({ path: wasAt, to: path }, 'file rotated');
      }
    }
    // Files with a checkpoint first: a truncated one's old content is then known when its copy is looked at.
    const known = [...found].sort(([a], [b]) => Number(this.#store.get(b) !== undefined) - Number(this.#store.get(a) !== undefined));
    for (const [key, path] of known) if (!this.#tailers.has(key)) await this.#open(path, key, initial);
    if (this.#minted) {
      this.#minted = false;
      await this.#store.flush();
    }
    this.#prune();
    this.#gauges();
  }

  async #open(path: string, key: string, initial: boolean): Promise<void> {
    const cfg = this.#config;
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      this.#warnOnce(path, err);
      return;
    }
    try {
      const st = await fh.stat();
      if (identityKey(st.dev, st.ino) !== key) { // replaced between stat and open: next scan
        await fh.close();
        return;
      }
      this.#warned.delete(path);
      const cp: TailCheckpoint | undefined = this.#store.get(key);
      let resume: Resume | undefined;
      if (cp) {
        const before = await contentMatches(fh, st.size, cp, cfg.fingerprint_bytes);
        if (before) resume = { cp, before };
        else {
          // Truncated or rewritten while stopped (copytruncate), or the inode reused: the old
          // content's unread rest may be in a copy next to it.
          this.#ctx.log.debug({ path, checkpoint: cp.offset, size: st.size }, 'checkpoint does not match the file, reading it from the start');
          this.#origins.push({ cp, at: Date.now() });
          await this.#recoverCopy(cp);
        }
      }
      if (!resume) {
        const origin = await this.#findOrigin(fh, st.size, st.mtimeMs, key);
        if (origin === 'wait') { // a copy still being written: look again at the next scan
          await fh.close();
          this.#rescan = true;
          return;
        }
        resume = origin;
      }
      if (resume) {
        this.#startTailer(path, key, fh, st, resume);
      } else {
        const fp = await readFingerprint(fh, cfg.fingerprint_bytes);
        const offset = !cp && initial && cfg.read_from === 'end' ? st.size : 0;
        const before = offset > 0 ? await readBefore(fh, offset, cfg.fingerprint_bytes) : undefined;
        // A new file generation: new ids, on disk before any entry carries them (see #scan).
        this.#minted = true;
        this.#startTailer(path, key, fh, st, { cp: { ...fp, fingerprintBytes: fp.bytes, offset, idPrefix: newIdPrefix() }, before });
      }
      this.#ctx.log.debug({ path, offset: resume?.cp.offset ?? 0 }, 'file opened');
    } catch (err) {
      await fh.close().catch(() => undefined);
      this.#ctx.log.warn({ err, path }, 'cannot open file');
    }
  }

  /** Starts tailing an open file at `resume.cp.offset`, with that checkpoint's identity and marks. */
  #startTailer(path: string, key: string, fh: FileHandle, st: { dev: number; ino: number; size: number }, resume: Resume): Tailer {
    const cfg = this.#config;
    const { cp, before } = resume;
    const inherit = resume.inherit?.inflight;
    if (resume.inherit) resume.inherit.claimed = true;
    const t = new Tailer({
      ctx: this.#ctx, store: this.#store, key, path, fh, dev: st.dev, ino: st.ino, fingerprint: cp.fingerprint,
      fingerprintBytes: cp.fingerprintBytes, maxFingerprintBytes: cfg.fingerprint_bytes,
      idPrefix: cp.idPrefix ?? legacyIdPrefix(cp.dev ?? st.dev, cp.ino ?? st.ino, cp.fingerprint),
      offset: inherit?.at(-1)?.end ?? cp.offset, committed: cp.offset, inherit,
      before, tail: 'tail' in cp ? tailOf(cp as TailCheckpoint) : undefined, size: st.size,
      maxLineBytes: cfg.max_line_bytes, multiline: this.#multiline, canSave: (x) => (this.#tailers.get(x.key) ?? x) === x,
    });
    t.save();
    this.#tailers.set(key, t);
    return t;
  }

  /**
   * Takes over the renamed and deleted files the previous pipeline's source handed over at a
   * reload: read on from their acknowledged offsets, through the same open handles.
   */
  async #adoptHandedOver(): Promise<void> {
    const list = this.#handedOver;
    this.#handedOver = [];
    for (const old of list) {
      const h = old.handOff();
      if (!h) continue;
      try {
        if (this.#tailers.has(old.key)) throw new Error('already open');
        const st = await h.fh.stat();
        const before = await readBefore(h.fh, h.checkpoint.offset, this.#config.fingerprint_bytes);
        const t = this.#startTailer(old.path, old.key, h.fh, st, { cp: h.checkpoint, before });
        t.detached = h.detached;
        t.deletedAt = h.deletedAt;
        this.#rotated.add(t); // its rotation was counted by the previous pipeline
        this.#ctx.log.debug({ path: old.path, offset: h.checkpoint.offset, deleted: h.deletedAt !== undefined }, 'file taken over from the previous pipeline');
      } catch (err) {
        await h.fh.close().catch(() => undefined);
        if (!(err instanceof Error && err.message === 'already open')) this.#ctx.log.warn({ err, path: old.path }, 'cannot take over file');
      }
    }
  }

  /**
   * At start: finds the checkpointed files that were renamed out of the globs while opsctl was down
   * (same device and inode, same content, in the same directory) and reads them to their end.
   */
  async #recoverRenamed(): Promise<void> {
    const byDir = new Map<string, Array<[string, TailCheckpoint]>>();
    for (const [key, cp] of this.#store.entries()) {
      if (this.#tailers.has(key) || typeof cp.path !== 'string') continue;
      const dir = dirname(cp.path);
      const list = byDir.get(dir) ?? [];
      list.push([key, cp]);
      byDir.set(dir, list);
    }
    for (const [dir, cps] of byDir) {
      const files = await regularFiles(dir);
      for (const [key, cp] of cps) {
        const f = files.find((x) => identityKey(x.st.dev, x.st.ino) === key);
        if (!f || f.st.size <= cp.offset) continue;
        await this.#resumeAt(f.path, key, cp, 'renamed while stopped');
      }
    }
  }

  /**
   * Looks next to a truncated file for a copy of its old content (copytruncate: same first bytes,
   * same bytes before the acknowledged offset) and reads the copy from that offset: the lines not
   * yet read when the file was copied are in the copy only.
   */
  async #recoverCopy(cp: TailCheckpoint, content?: TruncatedContent): Promise<void> {
    if (typeof cp.path !== 'string') return;
    for (const f of await regularFiles(dirname(cp.path))) {
      const key = identityKey(f.st.dev, f.st.ino);
      if (this.#tailers.has(key) || f.st.size < cp.offset || f.st.size < cp.fingerprintBytes) continue;
      // Its own ids: the copy is another file, which may grow on its own.
      if (await this.#resumeAt(f.path, key, { ...cp, idPrefix: newIdPrefix() }, 'copy of a truncated file', content)) {
        await this.#store.flush();
        return;
      }
    }
  }

  /**
   * Opens `path` and, when its content matches `cp`, tails it (detached: read to its end, then
   * released) from cp's offset, or after the batches of `content` still in flight, taken over.
   */
  async #resumeAt(path: string, key: string, cp: TailCheckpoint, why: string, content?: TruncatedContent): Promise<boolean> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (identityKey(st.dev, st.ino) !== key) return false;
      const matched = await contentMatches(fh, st.size, cp, this.#config.fingerprint_bytes);
      if (!matched) return false;
      const t = this.#startTailer(path, key, fh, st, await this.#resume(fh, st.size, cp, matched, content));
      fh = undefined;
      t.detached = true; // found outside the globs; a scan that matches it attaches it
      this.#ctx.metrics.fileRotations.inc({ component: this.#ctx.name, how: why === 'renamed while stopped' ? 'rename' : 'copy' });
      this.#ctx.log.info({ path, offset: cp.offset, was: cp.path }, `reading the rest of a ${why}`);
      return true;
    } catch (err) {
      this.#ctx.log.debug({ err, path }, 'cannot check a file for a known content');
      return false;
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  /**
   * For a file without a checkpoint: whether it is a copy of a file being tailed, or of one recently
   * truncated (copytruncate with the copy inside the globs). Then it continues from that file's
   * checkpoint (with ids of its own) instead of being read again from the start. Only a full-length
   * fingerprint counts, with the bytes before the offset: a shared header alone does not make a copy.
   * "wait" when it starts like one but is still shorter than the offset and was just written (the copy is in progress).
   */
  async #findOrigin(fh: FileHandle, size: number, mtimeMs: number, key: string): Promise<Resume | 'wait' | undefined> {
    const full = this.#config.fingerprint_bytes;
    if (size < full) return undefined;
    const now = Date.now();
    this.#origins = this.#origins.filter((o) => now - o.at < ORIGIN_TTL_MS);
    const candidates: TailCheckpoint[] = this.#origins.map((o) => o.cp);
    for (const t of this.#tailers.values()) if (t.fh && !t.detached && t.key !== key) candidates.push(t.checkpoint());
    let head: string | undefined;
    for (const cp of candidates) {
      if (cp.fingerprintBytes !== full || cp.offset < full || identityKey(cp.dev, cp.ino) === key) continue;
      head ??= (await readFingerprint(fh, full)).fingerprint;
      if (head !== cp.fingerprint) continue;
      if (size < cp.offset) {
        if (now - mtimeMs < COPY_SETTLE_MS) return 'wait';
        continue;
      }
      const before = await contentMatches(fh, size, cp, full);
      if (before) {
        this.#ctx.metrics.fileRotations.inc({ component: this.#ctx.name, how: 'copy' });
        this.#ctx.log.debug({ offset: cp.offset, of: cp.path }, 'new file is a copy of a known one: continuing from its checkpoint');
        // Its own ids: the copy is another file, and both may grow (a backup copy of a live file).
        this.#minted = true;
        const content = this.#origins.find((o) => o.cp === cp)?.content;
        return this.#resume(fh, size, { ...cp, idPrefix: newIdPrefix() }, before, content);
      }
    }
    return undefined;
  }

  /**
   * Where a copy of old content resumes: at the checkpoint, or, when the truncated file's batches
   * still in flight can be taken over (not yet claimed, and the copy holds them), after the last
   * of them, so lines already on their way are not sent twice.
   */
  async #resume(fh: FileHandle, size: number, cp: Resume['cp'], before: Buffer, content: TruncatedContent | undefined): Promise<Resume> {
    const end = content?.inflight.at(-1)?.end;
    if (!content || content.claimed || end === undefined || end > size) return { cp, before };
    return { cp, before: await readBefore(fh, end, this.#config.fingerprint_bytes), inherit: content };
  }

  /** A tailer found its file truncated: its old content's rest may be in a copy (copytruncate). */
  async #truncated(t: Tailer): Promise<void> {
    const content = t.truncatedFrom as TruncatedContent;
    t.truncatedFrom = undefined;
    this.#origins.push({ cp: content.checkpoint, at: Date.now(), content });
    await this.#recoverCopy(content.checkpoint, content);
  }

  async #poll(now: number): Promise<void> {
    for (const t of this.#tailers.values()) {
      if (!t.fh || t.reading) continue;
      try {
        await t.poll(now); // counts and logs a truncation itself (also found by a read)
        if (t.truncatedFrom) await this.#truncated(t);
      } catch (err) {
        this.#ctx.log.warn({ err, path: t.path }, 'cannot check file');
      }
    }
    this.#gauges();
  }

  /**
   * Runs on a timer, also while an emit is blocked: keeps the size and lag gauges current and closes
   * deleted files held longer than max_deleted_hold.
   */
  async #checkDeletedHold(): Promise<void> {
    if (!this.#emitting) return;
    const now = Date.now();
    for (const t of this.#tailers.values()) {
      const fh = t.fh;
      if (!fh || t.reading) continue;
      try {
        const st = await fh.stat();
        if (st.nlink === 0) t.deletedAt ??= now;
        t.observeSize(st.size);
      } catch {
        continue;
      }
      this.#gauges();
      if (t.deletedAt === undefined || now - t.deletedAt < this.#config.max_deleted_hold || t.reading || !t.fh) continue;
      await this.#release(t);
      this.#ctx.metrics.deletedHoldExpired.inc({ component: this.#ctx.name });
      this.#ctx.log.warn({ path: t.path, unreadBytes: Math.max(0, t.size - t.offset) }, 'deleted file held too long, closed it');
    }
  }

  async #release(t: Tailer): Promise<void> {
    this.#tailers.delete(t.key);
    await t.release();
    this.#gauges();
    this.#ctx.log.debug({ path: t.path }, 'file released');
  }

  /** Forgets checkpoints of files unseen for checkpoint_ttl, and the oldest past max_checkpoints. */
  #prune(): void {
    const now = Date.now();
    const idle: Array<[string, number]> = [];
    for (const [key, cp] of this.#store.entries()) {
      const live = this.#tailers.get(key);
      if (live) {
        if (now - cp.updated > 3_600_000) live.save(); // keeps a live but quiet file from looking gone
        continue;
      }
      if (now - cp.updated > this.#config.checkpoint_ttl) this.#store.delete(key);
      else idle.push([key, cp.updated]);
    }
    const excess = idle.length + this.#tailers.size - this.#config.max_checkpoints;
    if (excess > 0) for (const [key] of idle.sort((a, b) => a[1] - b[1]).slice(0, excess)) this.#store.delete(key);
  }

  #warnOnce(path: string, err: unknown): void {
    const code = errnoCode(err);
    if (code === 'ENOENT') return; // vanished between glob and stat
    if (this.#warned.has(path)) return;
    this.#warned.add(path);
    this.#ctx.log.warn({ err, path, code }, 'cannot open file, skipping it');
  }

  #gauges(): void {
    let open = 0;
    let deleted = 0;
    for (const t of this.#tailers.values()) {
      if (!t.fh) continue;
      open++;
      if (t.deletedAt !== undefined) deleted++;
    }
    this.#ctx.metrics.filesOpen.set({ component: this.#ctx.name }, open);
    this.#ctx.metrics.filesDeletedOpen.set({ component: this.#ctx.name }, deleted);
  }

  /** Watches the glob base directories, best effort: an event triggers a rescan; polling stays. */
  #watch(): void {
    const dirs = new Map<string, boolean>();
    for (const pattern of this.#config.include) {
      const { dir, recursive } = globBase(pattern);
      dirs.set(dir, (dirs.get(dir) ?? false) || recursive);
    }
    for (const [dir, recursive] of dirs) {
      try {
        const w = watch(dir, { recursive, persistent: false }, (event, name) => {
          if (event === 'rename') this.#rescan = true; // created, deleted or renamed
          else if (name !== null) {
            const path = join(dir, name); // appended: read it now rather than at the next poll
            for (const t of this.#tailers.values()) if (t.path === path && !t.detached) t.eof = false;
          }
          this.#wake?.();
        });
        w.on('error', () => w.close());
        this.#watchers.push(w);
      } catch (err) {
        this.#ctx.log.debug({ err, dir }, 'cannot watch directory, polling only');
      }
    }
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}

/** Whether an open file has no name left (deleted). */
async function isDeleted(fh: FileHandle): Promise<boolean> {
  try {
    return (await fh.stat()).nlink === 0;
  } catch {
    return false;
  }
}

/** Waits for `promise`, or until `signal` aborts (a blocked emit must not hold up shutdown). */
async function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    })]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
