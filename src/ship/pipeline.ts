// Builds the component graph of a ship config and runs it: sources emit batches, transforms
// change them, sinks buffer and deliver them. A batch's ack completes once every sink downstream
// has it (fan-out included), which is when its source may move its checkpoint.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Ack } from './ack.ts';
import { createBuffer } from './buffer/index.ts';
import { deadEnds, type ShipConfig, type TransformConfig } from './config.ts';
import { DeadLetterFile } from './dead-letter.ts';
import type { ComponentKind, ShipMetrics } from './metrics.ts';
import { sinks as sinkTypes } from './sinks/index.ts';
import { SinkRunner } from './sinks/runner.ts';
import { sources as sourceTypes } from './sources/index.ts';
import { transforms as transformTypes } from './transforms/index.ts';
import type { Batch, ComponentContext, Definition, LogEntry, Source, Transform, SinkWriter } from './types.ts';

export interface PipelineOptions {
  log: Logger;
  metrics: ShipMetrics;
  /** Directory of the config file, for relative paths. */
  configDir: string;
}

/** Something a batch can be handed to: a transform or a sink. */
interface Consumer { accept(entries: LogEntry[], ack: Ack): Promise<void> }

type AnyDefinition<T> = Definition<never, T>;

/**
 * A running graph. Build it with `Pipeline.build`, then `start()`; `stop(deadline)` stops the
 * sources, drains the sinks until the deadline and saves checkpoints.
 */
export class Pipeline {
  readonly #log: Logger;
  readonly #sources: Array<{ name: string; source: Source; consumers: Consumer[] }> = [];
  readonly #transforms: Array<{ name: string; transform: Transform }> = [];
  readonly #sinks = new Map<string, SinkRunner>();
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /** Resolves when every source ended on its own (stdin at EOF) or was stopped. */
  sourcesDone: Promise<void> = Promise.resolve();

  private constructor(log: Logger) {
    this.#log = log;
  }

  /** Creates every component (files are not opened and nothing is read before start). */
  static async build(config: ShipConfig, options: PipelineOptions): Promise<Pipeline> {
    const { log, metrics } = options;
    const p = new Pipeline(log);
    const dataDir = resolve(options.configDir, config.data_dir);
    mkdirSync(dataDir, { recursive: true });
    const deadLetterPath = config.dead_letter.path === undefined ? join(dataDir, 'dead-letter.ndjson') : resolve(options.configDir, config.dead_letter.path);
    const deadLetter = new DeadLetterFile(deadLetterPath, log, metrics);
    const context = (kind: ComponentKind, name: string): ComponentContext => ({
      name, log: log.child({ [kind]: name }), counters: metrics.component(kind, name), metrics, dataDir, configDir: options.configDir, deadLetter,
    });
    for (const name of deadEnds(config)) log.warn({ component: name }, 'component leads to no sink: its events are acknowledged and discarded');
    try {
      // Sinks first (transforms and sources hand to them), then transforms in dependency order.
      for (const [name, cfg] of Object.entries(config.sinks)) {
        const def = sinkTypes[cfg.type as keyof typeof sinkTypes] as unknown as AnyDefinition<SinkWriter>;
        const ctx = context('sink', name);
        const writer = await def.create(cfg as never, ctx);
        const c = cfg;
        const buffer = await createBuffer(c.buffer, { sink: name, dataDir, metrics, log: ctx.log });
        p.#sinks.set(name, new SinkRunner({
          name, writer, buffer, batch: c.batch, retry: c.retry, requestTimeoutMs: c.request_timeout,
          log: ctx.log, metrics, counters: ctx.counters, deadLetter,
        }));
      }
      for (const [name, cfg] of Object.entries(config.sinks)) {
        if (cfg.fallback !== undefined) p.#sinks.get(name)?.setFallback(p.#sinks.get(cfg.fallback) as SinkRunner);
      }
      const consumersOf = new Map<string, Consumer[]>();
      const addConsumer = (input: string, consumer: Consumer): void => {
        const list = consumersOf.get(input) ?? [];
        list.push(consumer);
        consumersOf.set(input, list);
      };
      for (const [name, cfg] of Object.entries(config.sinks)) {
        const runner = p.#sinks.get(name) as SinkRunner;
        for (const input of cfg.inputs) addConsumer(input, { accept: (entries, ack) => runner.push(entries, ack) });
      }
      // A transform's consumers must be known before it is wired to its inputs: walk from the sinks up.
      const order = transformOrder(config.transforms);
      const built = new Map<string, Transform>();
      for (const name of order) {
        const cfg = config.transforms[name] as TransformConfig;
        const def = transformTypes[cfg.type as keyof typeof transformTypes] as unknown as AnyDefinition<Transform>;
        const ctx = context('transform', name);
        const transform = await def.create(cfg as never, ctx);
        built.set(name, transform);
        p.#transforms.push({ name, transform });
      }
      // Consumers are looked up at accept time, so the order of wiring does not matter.
      for (const name of order) {
        const cfg = config.transforms[name] as TransformConfig;
        const transform = built.get(name) as Transform;
        const counters = metrics.component('transform', name);
        const tlog = log.child({ transform: name });
        const consumer: Consumer = {
          accept: async (entries, ack) => {
            counters.received(entries.length);
            let out: LogEntry[];
            try {
              out = await transform.process(entries);
            } catch (err) {
              // A transform bug must not lose data: pass the entries on unchanged.
              counters.error('internal', entries.length);
              tlog.error({ err }, 'transform failed, passing its entries on unchanged');
              out = entries;
            }
            counters.sent(out.length);
            await fanOut(consumersOf.get(name) ?? [], out, ack);
          },
        };
        for (const input of cfg.inputs) addConsumer(input, consumer);
      }
      for (const [name, cfg] of Object.entries(config.sources)) {
        const def = sourceTypes[cfg.type as keyof typeof sourceTypes] as unknown as AnyDefinition<Source>;
        const source = await def.create(cfg as never, context('source', name));
        p.#sources.push({ name, source, consumers: consumersOf.get(name) ?? [] });
      }
    } catch (err) {
      await p.#closeAll();
      throw err;
    }
    return p;
  }

  /** Starts the sinks' delivery loops, then the sources. */
  start(): void {
    if (this.#running) return;
    for (const sink of this.#sinks.values()) sink.start();
    const runs = this.#sources.map(({ name, source, consumers }) => {
      const emit = async (batch: Batch): Promise<void> => fanOut(consumers, batch.entries, batch.ack);
      return source.run(emit, this.#abort.signal).then(
        () => { this.#log.debug({ source: name }, 'source ended'); },
        (err: unknown) => { this.#log.error({ err, source: name }, 'source failed'); },
      );
    });
    this.sourcesDone = Promise.all(runs).then(() => undefined);
    this.#running = this.sourcesDone;
  }

  /**
   * Stops reading, delivers what is buffered until `deadline` (ms since epoch), then closes
   * everything; sources save their checkpoints last, with every acknowledgment that arrived.
   * `abandonFailing` (for a reload) stops failing sinks at once instead of draining them: their
   * memory-buffered entries stay unacknowledged and the next pipeline reads them again.
   * `handOver` (also for a reload) lets sources keep open what the next pipeline takes over.
   */
  stop(deadline: number, options: { abandonFailing?: boolean; handOver?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      if (options.handOver) for (const { source } of this.#sources) source.handOver?.();
      this.#abort.abort();
      if (options.abandonFailing) {
        const failing = [...this.#sinks.values()].filter((s) => s.failing);
        if (failing.length > 0) this.#log.info({ sinks: failing.map((s) => s.name) }, 'failing sinks are not drained: their undelivered entries are read again');
        await Promise.all(failing.map((s) => s.abandon()));
      }
      // A source blocked on a full buffer of a failing sink may not return before the deadline;
      // its unacknowledged entries are read again on the next start.
      const left = Math.max(0, deadline - Date.now());
      await Promise.race([this.sourcesDone, sleep(left, undefined, { ref: false })]);
      // Sinks drain in parallel; a fallback keeps working until its primaries are done.
      await Promise.all([...this.#sinks.values()].map((s) => s.drain(deadline)));
      await this.#closeAll();
    })();
    return this.#stopping;
  }

  /** Sink names whose last delivery failed. */
  failingSinks(): string[] {
    return [...this.#sinks.values()].filter((s) => s.failing).map((s) => s.name);
  }

  async #closeAll(): Promise<void> {
    const results = await Promise.allSettled([
      ...[...this.#sinks.values()].map((s) => s.close()),
      ...this.#transforms.map(({ transform }) => transform.close?.()),
    ]);
    const sourceResults = await Promise.allSettled(this.#sources.map(async ({ source }) => source.close?.()));
    for (const r of [...results, ...sourceResults]) {
      if (r.status === 'rejected') this.#log.error({ err: r.reason as unknown }, 'error while closing a component');
    }
  }
}

/**
 * Hands entries to every consumer; the ack gets one part per consumer. Consumers after the first
 * get their own copies (entry and fields), so a transform on one branch does not change another's.
 */
async function fanOut(consumers: readonly Consumer[], entries: LogEntry[], ack: Ack): Promise<void> {
  if (consumers.length === 0 || entries.length === 0) {
    ack.done();
    return;
  }
  if (consumers.length === 1) {
    await (consumers[0] as Consumer).accept(entries, ack);
    return;
  }
  ack.retain(consumers.length - 1);
  await Promise.all(consumers.map((c, i) => c.accept(i === 0 ? entries : entries.map(copyEntry), ack)));
}

function copyEntry(e: LogEntry): LogEntry {
  return { id: e.id, timestamp: e.timestamp, source: e.source, level: e.level, message: e.message, fields: { ...e.fields } };
}

/** Transforms, inputs before the transforms that read them (the graph is acyclic: config.ts checks). */
function transformOrder(transforms: Record<string, { inputs: readonly string[] }>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const input of transforms[name]?.inputs ?? []) if (input in transforms) visit(input);
    order.push(name);
  };
  for (const name of Object.keys(transforms)) visit(name);
  return order;
}
