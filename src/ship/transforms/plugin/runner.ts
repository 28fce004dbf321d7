// How plugin batches are run: inline (in the shipper's thread) or in a worker thread that is
// terminated when a batch overruns its timeout and restarted for the next batch.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { LogEntry } from '../../types.ts';
import { loadPlugin, runBatch, type BatchMessage, type PluginFn, type PluginResult, type WorkerMessage } from './protocol.ts';

/** A whole batch that got no results: it timed out, or the worker crashed or could not start. */
export interface BatchFailure { kind: 'plugin' | 'plugin_timeout'; error: string }

export interface Runner {
  /** Loads the module (throws a plain Error saying why it cannot). */
  start(): Promise<void>;
  /** Runs one batch; never rejects. */
  run(entries: LogEntry[]): Promise<PluginResult[] | BatchFailure>;
  close(): Promise<void>;
}

/** Waits for `work` at most `ms`; the timer never keeps the process alive after the race. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, ms, 'timeout'); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const timedOut = (ms: number): BatchFailure => ({ kind: 'plugin_timeout', error: `the batch took longer than ${ms}ms` });

/**
 * Runs the plugin in the shipper's own thread: cheapest, but a plugin that loops forever without
 * awaiting blocks the shipper (the timeout only covers async work). Entries are cloned first so a
 * plugin that changes its argument in place cannot change anything shared.
 */
export class InlineRunner implements Runner {
  readonly #url: string;
  readonly #timeout: number;
  #fn: PluginFn | undefined;

  constructor(url: string, timeout: number) {
    this.#url = url;
    this.#timeout = timeout;
  }

  async start(): Promise<void> {
    this.#fn = await loadPlugin(this.#url);
  }

  async run(entries: LogEntry[]): Promise<PluginResult[] | BatchFailure> {
    const fn = this.#fn;
    if (fn === undefined) return { kind: 'plugin', error: 'the plugin is not loaded' };
    let copies: LogEntry[];
    try {
      copies = structuredClone(entries);
    } catch (err) {
      return { kind: 'plugin', error: `entries cannot be copied (${(err as Error).message})` };
    }
    const results = await within(runBatch(fn, copies), this.#timeout);
    return results === 'timeout' ? timedOut(this.#timeout) : results;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Pending { resolve(outcome: PluginResult[] | BatchFailure): void }

const workerFile = new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Runs the plugin in a worker thread. A batch that overruns `timeout` terminates the worker
 * (whatever it is doing, even an endless loop); a worker that exits or crashes fails its pending
 * batches. Either way the next batch starts a fresh worker, which loads the module again.
 */
export class WorkerRunner implements Runner {
  readonly #url: string;
  readonly #timeout: number;
  readonly #loadTimeout: number;
  readonly #log: Logger;
  #worker: Worker | undefined;
  #starting: Promise<Worker> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(url: string, timeout: number, log: Logger) {
    this.#url = url;
    this.#timeout = timeout;
    this.#loadTimeout = Math.max(timeout, 10_000);
    this.#log = log;
  }

  async start(): Promise<void> {
    await this.#ensure();
  }

  async run(entries: LogEntry[]): Promise<PluginResult[] | BatchFailure> {
    let worker: Worker;
    try {
      worker = await this.#ensure();
    } catch (err) {
      return { kind: 'plugin', error: `the plugin worker could not start (${(err as Error).message})` };
    }
    const id = this.#nextId++;
    const outcome = new Promise<PluginResult[] | BatchFailure>((resolve) => { this.#pending.set(id, { resolve }); });
    try {
      worker.postMessage({ id, entries } satisfies BatchMessage);
    } catch (err) {
      this.#pending.delete(id);
      return { kind: 'plugin', error: `entries cannot be sent to the worker (${(err as Error).message})` };
    }
    const result = await within(outcome, this.#timeout);
    if (result !== 'timeout') return result;
    this.#pending.delete(id);
    this.#stop(worker, timedOut(this.#timeout));
    return timedOut(this.#timeout);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker ?? (await this.#starting?.catch(() => undefined));
    if (worker) {
      this.#stop(worker, { kind: 'plugin', error: 'the transform was closed' });
      await worker.terminate();
    }
  }

  /** The running worker, or a fresh one once its module is loaded. */
  #ensure(): Promise<Worker> {
    if (this.#closed) return Promise.reject(new Error('the transform was closed'));
    if (this.#worker) return Promise.resolve(this.#worker);
    this.#starting ??= this.#spawn().finally(() => { this.#starting = undefined; });
    return this.#starting;
  }

  #spawn(): Promise<Worker> {
    const worker = new Worker(workerFile, { workerData: { url: this.#url }, stdout: true, stderr: true });
    worker.unref();
    // What a plugin prints must not mix with the shipper's own output (stdout may be a sink).
    const echo = (stream: string) => (chunk: Buffer): void => { this.#log.debug({ stream, output: chunk.toString('utf8', 0, 2048) }, 'plugin output'); };
    worker.stdout.on('data', echo('stdout'));
    worker.stderr.on('data', echo('stderr'));
    return new Promise<Worker>((resolve, reject) => {
      let loaded = false;
      const timer = setTimeout(() => {
        reject(new Error(`the module did not load within ${this.#loadTimeout}ms`));
        void worker.terminate();
      }, this.#loadTimeout);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          loaded = true;
          clearTimeout(timer);
          this.#worker = worker;
          resolve(worker);
        } else if (message.type === 'load_error') {
          clearTimeout(timer);
          reject(new Error(message.message));
          void worker.terminate();
        } else {
          const pending = this.#pending.get(message.id);
          this.#pending.delete(message.id);
          pending?.resolve(message.results);
        }
      });
      worker.on('error', (err: Error) => {
        clearTimeout(timer);
        if (!loaded) reject(err instanceof Error ? err : new Error(String(err)));
        else this.#stop(worker, { kind: 'plugin', error: `the plugin worker crashed (${err.message})` });
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!loaded) reject(new Error(`the worker exited with code ${code} while loading the module`));
        else this.#stop(worker, { kind: 'plugin', error: `the plugin worker exited (code ${code})` });
      });
    });
  }

  /** Forgets a worker (terminating it) and fails the batches waiting on it. */
  #stop(worker: Worker, failure: BatchFailure): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    void worker.terminate().catch(() => undefined);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.resolve(failure);
  }
}
