// One etcd watch on its own gRPC stream. etcd3's Watcher (1.1.2) resumes from the last response
// header's revision + 1, and moves there on the "created" response too, before the catch-up
// events of a past-revision watch arrive: a stream that breaks in between skips them. This keeps
// its own position instead, the last delivered event's revision + 1, and reads the compact
// revision of a cancel (etcd3 turns it into a message-only error).
import type { Etcd3, IDuplexStream, IKeyValue, IWatchRequest, IWatchResponse } from 'etcd3';
import { OpsError } from '../../core/errors.ts';
import type { WatchEvent } from '../types.ts';
import { storeError } from './errors.ts';
import { kvOf } from './kv.ts';

type Stream = IDuplexStream<IWatchRequest, IWatchResponse>;
type Pausable = { pause(): void; resume(): void };

/** Queued events above which the stream is paused (gRPC flow control then holds etcd back). */
const highWater = 1024;
const lowWater = 256;

export class EtcdWatch implements AsyncIterable<WatchEvent> {
  readonly #client: Etcd3;
  readonly #key: Buffer;
  readonly #end: Buffer;
  readonly #what: string;
  readonly #onStop: (w: EtcdWatch) => void;
  readonly #signal: AbortSignal | undefined;
  /** The revision to (re)start from; undefined until etcd told us "now" for a watch without fromRevision. */
  #next: number | undefined;
  #queue: WatchEvent[] = [];
  #failure: OpsError | undefined;
  #stopped = false;
  #paused = false;
  #stream: Stream | undefined;
  #retry: NodeJS.Timeout | undefined;
  #backoffMs = 100;
  #wake: (() => void) | undefined;

  constructor(client: Etcd3, range: { key: Buffer; end: Buffer; prefix: string }, from: number | undefined, signal: AbortSignal | undefined, onStop: (w: EtcdWatch) => void) {
    this.#client = client;
    this.#key = range.key;
    this.#end = range.end;
    this.#what = `watch ${range.prefix}`;
    this.#next = from;
    this.#signal = signal;
    this.#onStop = onStop;
    signal?.addEventListener('abort', this.stop, { once: true });
    if (signal?.aborted) this.stop();
    else this.#connect();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.#pull(),
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Ends the watch: no more network; the iteration finishes after what is queued. */
  readonly stop = (): void => {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#signal?.removeEventListener('abort', this.stop);
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.cancel();
    this.#onStop(this);
    this.#notify();
  };

  async #pull(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      const event = this.#queue.shift();
      if (event) {
        if (this.#paused && this.#queue.length <= lowWater && this.#stream) {
          this.#paused = false;
          (this.#stream as unknown as Pausable).resume();
        }
        return { value: event, done: false };
      }
      if (this.#failure) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      if (this.#stopped) return { value: undefined, done: true };
      await new Promise<void>((resolve) => { this.#wake = resolve; });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(err: OpsError): void {
    if (this.#stopped) return;
    this.#failure = err;
    this.stop();
  }

  #connect(): void {
    this.#retry = undefined;
    if (this.#stopped) return;
    this.#client.watchClient.watch().then((stream) => {
      if (this.#stopped) {
        stream.cancel();
        return;
      }
      this.#stream = stream;
      this.#paused = false;
      stream.on('data', (res) => this.#onData(stream, res));
      stream.on('error', (err) => this.#onBroken(stream, err));
      stream.on('end', () => this.#onBroken(stream, new Error('watch stream ended')));
      stream.write({ create_request: { key: this.#key, range_end: this.#end, start_revision: this.#next ?? 0, prev_kv: true, progress_notify: true } });
    }, (err: unknown) => this.#onBroken(undefined, err));
  }

  #onData(stream: Stream, res: IWatchResponse): void {
    if (stream !== this.#stream) return;
    if (res.created && !res.canceled) {
      this.#backoffMs = 100;
      // Without a start revision etcd starts right after the revision in this header.
      this.#next ??= Number(res.header.revision) + 1;
      return;
    }
    if (res.canceled) {
      const compactRevision = Number(res.compact_revision);
      if (compactRevision > 0) {
        this.#fail(new OpsError('OPS_ERR_STORE_COMPACTED', `etcd ${this.#what} from revision ${this.#next}: compacted up to ${compactRevision}`,
          { details: { revision: this.#next, compactRevision } }));
      } else {
        this.#fail(storeError(new Error(res.cancel_reason || 'canceled by etcd'), this.#what));
      }
      return;
    }
    if (res.events.length === 0) {
      // A progress notification: etcd sends them only to watchers that have caught up.
      const now = Number(res.header.revision) + 1;
      if (this.#next !== undefined && now > this.#next) this.#next = now;
      return;
    }
    for (const ev of res.events) {
      const revision = Number(ev.kv.mod_revision);
      const event: WatchEvent = ev.type === 'Put'
        ? { type: 'put', kv: kvOf(ev.kv), revision }
        : { type: 'delete', kv: { key: ev.kv.key.toString(), value: '', createRevision: 0, modRevision: revision, version: 0 }, revision };
      if (hasKv(ev.prev_kv)) event.prevKv = kvOf(ev.prev_kv);
      this.#queue.push(event);
      this.#next = revision + 1;
    }
    if (this.#queue.length >= highWater && !this.#paused) {
      this.#paused = true;
      (stream as unknown as Pausable).pause();
    }
    this.#notify();
  }

  #onBroken(stream: Stream | undefined, err: unknown): void {
    if (this.#stopped || (stream !== undefined && stream !== this.#stream)) return;
    this.#stream = undefined;
    stream?.cancel();
    const failure = storeError(err, this.#what);
    if (failure.code !== 'OPS_ERR_STORE_UNAVAILABLE') {
      this.#fail(failure);
      return;
    }
    // Reconnect from the last delivered revision + 1: nothing lost, nothing twice.
    this.#retry = setTimeout(() => this.#connect(), this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, 2000);
  }
}

const hasKv = (kv: IKeyValue | null | undefined): kv is IKeyValue => kv !== null && kv !== undefined && kv.key.length > 0;
