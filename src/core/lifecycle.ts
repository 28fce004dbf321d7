// Process lifecycle: SIGTERM/SIGINT -> one AbortSignal, ordered graceful shutdown with a deadline,
// a second signal forces exit.
import type { Logger } from 'pino';

export interface LifecycleOptions {
  log: Logger;
  /** How long stop hooks may take in all before the process exits anyway (default 10 s). */
  shutdownTimeoutMs?: number;
  /** Called to end the process on a forced or timed-out shutdown (default process.exit). */
  exit?: (code: number) => void;
}

interface Stopper { name: string; stop: () => Promise<void> | void }

/**
 * Owns the AbortSignal every long-running unit takes. Units register a stop hook with `add`;
 * shutdown runs them in reverse order of registration (last started, first stopped).
 * @example
 *   const life = new Lifecycle({ log });
 *   life.installSignalHandlers();
 *   const server = await startServer(life.signal);
 *   life.add('http', () => server.close());
 *   await life.done;
 */
export class Lifecycle {
  readonly #controller = new AbortController();
  readonly #stoppers: Stopper[] = [];
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #exit: (code: number) => void;
  #shutdown: Promise<void> | undefined;
  #signals = 0;
  #resolveDone!: () => void;
  /** Resolves once shutdown has finished. */
  readonly done: Promise<void> = new Promise((resolve) => { this.#resolveDone = resolve; });

  constructor(options: LifecycleOptions) {
    this.#log = options.log.child({ module: 'lifecycle' });
    this.#timeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.#exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Aborted when shutdown begins. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Registers a stop hook; hooks run in reverse order of registration. */
  add(name: string, stop: () => Promise<void> | void): void {
    this.#stoppers.push({ name, stop });
  }

  /** Turns SIGTERM and SIGINT into a graceful shutdown; a second signal exits at once (code 130). */
  installSignalHandlers(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
    const onSignal = (sig: NodeJS.Signals): void => {
      this.#signals++;
      if (this.#signals > 1) {
        this.#log.warn({ signal: sig }, 'second signal, exiting now');
        this.#exit(130);
        return;
      }
      this.#log.info({ signal: sig }, 'shutting down');
      void this.shutdown(sig);
    };
    for (const s of signals) process.on(s, onSignal);
    return () => { for (const s of signals) process.off(s, onSignal); };
  }

  /** Aborts the signal and runs every stop hook once; later calls return the same promise. */
  shutdown(reason = 'shutdown'): Promise<void> {
    this.#shutdown ??= this.#run(reason);
    return this.#shutdown;
  }

  async #run(reason: string): Promise<void> {
    this.#controller.abort(reason);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#timeoutMs);
      timer.unref();
    });
    const stopAll = (async () => {
      for (const s of [...this.#stoppers].reverse()) {
        try {
          await s.stop();
          this.#log.debug({ unit: s.name }, 'stopped');
        } catch (err) {
          this.#log.error({ unit: s.name, err }, 'stop failed');
        }
      }
    })();
    const outcome = await Promise.race([stopAll.then(() => 'ok' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#log.error({ code: 'OPS_ERR_SHUTDOWN_TIMEOUT', timeoutMs: this.#timeoutMs }, 'shutdown deadline passed, exiting');
      this.#exit(70);
    }
    this.#resolveDone();
  }
}
