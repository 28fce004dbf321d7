// Local receivers for the shipper's end-to-end tests: an HTTP endpoint and a TCP line listener that
// record every entry they take, by entry id (to count duplicates) and by message (to find lines).
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';

/** One entry as received (the shipper's LogEntry, as JSON). */
export interface ReceivedEntry {
  id: string;
  timestamp: string;
  source: string;
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * How the HTTP receiver answers: 200 (after `delayMs`: the entries are recorded at once, as a
 * receiver that has them before it answers); an error status (503 with an optional Retry-After,
 * 400...), recording nothing; or never.
 */
export type ReceiverBehaviour =
  | { mode: 'accept'; delayMs?: number }
  | { mode: 'status'; status: number; retryAfterSeconds?: number }
  | { mode: 'hang' };

/** Lines written by the tests carry `seq=<n>`: the sequence number of a message, or undefined. */
export function seqOf(message: string): number | undefined {
  const m = /\bseq=(\d+)\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** A line with its sequence number, padded so that lines of one test have similar lengths. */
export function seqLine(seq: number, tag = 'line'): string {
  return `${tag} seq=${String(seq).padStart(7, '0')} payload=${'x'.repeat(40)}`;
}

/** What the receivers share: the record of entries and the waits on it. */
class Recorder {
  /** Every entry accepted, in arrival order, duplicates included. */
  readonly entries: ReceivedEntry[] = [];
  /** Times each entry id was accepted. */
  readonly byId = new Map<string, number>();
  /** Entries accepted, by message. */
  readonly byMessage = new Map<string, ReceivedEntry[]>();
  /** Bodies or lines that were not entries (bad JSON). */
  invalid = 0;
  readonly #waiters = new Set<() => void>();

  record(entry: ReceivedEntry): void {
    this.entries.push(entry);
    this.byId.set(entry.id, (this.byId.get(entry.id) ?? 0) + 1);
    const list = this.byMessage.get(entry.message);
    if (list) list.push(entry);
    else this.byMessage.set(entry.message, [entry]);
  }

  notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Entries accepted, duplicates included. */
  get total(): number {
    return this.entries.length;
  }

  /** Distinct entry ids accepted. */
  get unique(): number {
    return this.byId.size;
  }

  /** Entries accepted more than once: total minus distinct ids. */
  get duplicates(): number {
    return this.total - this.unique;
  }

  /** Distinct sequence numbers (see seqLine) among the messages received. */
  seqs(tag?: string): Set<number> {
    const out = new Set<number>();
    for (const message of this.byMessage.keys()) {
      if (tag !== undefined && !message.startsWith(`${tag} `)) continue;
      const s = seqOf(message);
      if (s !== undefined) out.add(s);
    }
    return out;
  }

  /** Sequence numbers that first arrived after a greater one (at most `limit`, for messages): order broken. */
  outOfOrder(limit = 20): string[] {
    const first = new Set<number>();
    const out: string[] = [];
    let latest = -1;
    for (const e of this.entries) {
      const s = seqOf(e.message);
      if (s === undefined || first.has(s)) continue;
      first.add(s);
      if (s < latest && out.length < limit) out.push(`${s} after ${latest}`);
      latest = Math.max(latest, s);
    }
    return out;
  }

  /** Sequence numbers in [from, to) not received yet (at most `limit`, for messages). */
  missing(from: number, to: number, tag?: string, limit = 20): number[] {
    const got = this.seqs(tag);
    const out: number[] = [];
    for (let s = from; s < to && out.length < limit; s++) if (!got.has(s)) out.push(s);
    return out;
  }

  /** Resolves once `predicate` holds (checked now and after each request); rejects after timeoutMs, with `describe()` in the message. */
  waitFor(predicate: () => boolean, timeoutMs = 20_000, describe?: () => string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`receiver: condition not met after ${timeoutMs} ms (${this.total} entries, ${this.unique} ids)${describe ? `: ${describe()}` : ''}`));
      }, timeoutMs);
      // Some conditions depend on time or on the tests' own state too: poll as well.
      const poll = setInterval(check, 200);
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Waits until every sequence number in [from, to) was received; the error lists the first missing ones. */
  waitForSeqs(from: number, to: number, timeoutMs = 30_000, tag?: string): Promise<void> {
    return this.waitFor(() => this.missing(from, to, tag, 1).length === 0, timeoutMs, () => `missing seqs ${this.missing(from, to, tag).join(',')}`);
  }
}

/**
 * An HTTP receiver on 127.0.0.1 (port 0 at first): takes NDJSON or JSON-array bodies, gzip or not,
 * and records each entry of the requests it answers with 2xx.
 *
 * @example
 *   const rx = await startReceiver(t); // HttpReceiver.start(), closed when the test ends
 *   rx.behave({ mode: 'status', status: 503, retryAfterSeconds: 1 });
 *   await rx.stop(); await rx.restart(); // same port
 *   await rx.waitForSeqs(0, 1000);
 */
export class HttpReceiver extends Recorder {
  /** Requests seen, whatever the answer. */
  requests = 0;
  /** Requests answered with an error status. */
  rejected = 0;
  /** Content-Encoding of the last request ("" when none). */
  lastEncoding = '';
  /** Content-Type of the last request. */
  lastContentType = '';
  #behaviour: ReceiverBehaviour = { mode: 'accept' };
  #server: HttpServer;
  #port = 0;
  readonly #sockets = new Set<Socket>();
  readonly #hanging = new Set<ServerResponse>();

  private constructor() {
    super();
    this.#server = this.#create();
  }

  static async start(): Promise<HttpReceiver> {
    const rx = new HttpReceiver();
    await rx.#listen(0);
    return rx;
  }

  get port(): number {
    return this.#port;
  }

  /** The ingest URL (the path is not checked). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/ingest`;
  }

  /** Changes how requests from now on are answered (hanging ones stay hanging until stop/close). */
  behave(behaviour: ReceiverBehaviour): void {
    this.#behaviour = behaviour;
  }

  /** Closes the listener and every connection: the shipper gets connection errors until restart(). */
  async stop(): Promise<void> {
    if (!this.#server.listening) return;
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    const closed = once(this.#server, 'close');
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Listens again on the same port (after stop). */
  async restart(): Promise<void> {
    this.#server = this.#create();
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    await this.stop();
  }

  #create(): HttpServer {
    const server = createHttpServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    return server;
  }

  async #listen(port: number): Promise<void> {
    // The port of a stopped receiver may linger briefly: try again for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.#server.once('error', reject);
          this.#server.listen(port, '127.0.0.1', () => {
            this.#server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        if (attempt >= 50) throw err;
        this.#server = this.#create();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away
    }
    this.requests++;
    this.lastEncoding = req.headers['content-encoding'] ?? '';
    this.lastContentType = req.headers['content-type'] ?? '';
    const behaviour = this.#behaviour;
    if (behaviour.mode === 'hang') {
      this.#hanging.add(res);
      res.on('close', () => this.#hanging.delete(res));
      return;
    }
    if (behaviour.mode === 'status') {
      this.rejected++;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (behaviour.retryAfterSeconds !== undefined) headers['retry-after'] = String(behaviour.retryAfterSeconds);
      res.writeHead(behaviour.status, headers).end(`status ${behaviour.status}\n`);
      this.notify();
      return;
    }
    let body = Buffer.concat(chunks);
    try {
      if (this.lastEncoding === 'gzip') body = gunzipSync(body);
    } catch {
      this.invalid++;
      res.writeHead(400).end('bad gzip\n');
      return;
    }
    const parsed = parseBody(body.toString('utf8'));
    this.invalid += parsed.invalid;
    for (const e of parsed.entries) this.record(e);
    this.notify();
    if (behaviour.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  }
}

/** Entries of an NDJSON body or a JSON array body. */
function parseBody(text: string): { entries: ReceivedEntry[]; invalid: number } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      const arr = JSON.parse(trimmed) as unknown;
      if (Array.isArray(arr)) return { entries: arr.filter(isEntry), invalid: arr.filter((e) => !isEntry(e)).length };
    } catch {
      return { entries: [], invalid: 1 };
    }
  }
  const entries: ReceivedEntry[] = [];
  let invalid = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = parseEntry(line);
    if (e) entries.push(e);
    else invalid++;
  }
  return { entries, invalid };
}

/** One JSON line as an entry, or undefined when it is not one. */
export function parseEntry(line: string): ReceivedEntry | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return isEntry(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isEntry(v: unknown): v is ReceivedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Partial<ReceivedEntry>;
  return typeof e.id === 'string' && typeof e.message === 'string' && typeof e.fields === 'object';
}

/**
 * A TCP receiver on 127.0.0.1:0 taking newline-delimited JSON entries (the tcp sink's "json"
 * encoding); a line that is not an entry is counted in `invalid`.
 */
export class TcpReceiver extends Recorder {
  /** Connections accepted. */
  connections = 0;
  readonly #server: TcpServer;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #paused = false;

  private constructor() {
    super();
    this.#server = createTcpServer((socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      const lines = createInterface({ input: socket, crlfDelay: Infinity });
      lines.on('line', (line) => {
        const e = parseEntry(line);
        if (e) this.record(e);
        else this.invalid++;
        this.notify();
      });
      if (this.#paused) socket.pause();
    });
  }

  /** Stops reading every connection, open or accepted later (they are still accepted): the socket buffers fill up. */
  pause(): void {
    this.#paused = true;
    for (const s of this.#sockets) s.pause();
  }

  /** Reads every connection again. */
  resume(): void {
    this.#paused = false;
    for (const s of this.#sockets) s.resume();
  }

  static async start(): Promise<TcpReceiver> {
    const rx = new TcpReceiver();
    await new Promise<void>((resolve) => rx.#server.listen(0, '127.0.0.1', resolve));
    rx.#port = (rx.#server.address() as AddressInfo).port;
    return rx;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async close(): Promise<void> {
    const closed = once(this.#server, 'close');
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

/** An HttpReceiver (see HttpReceiver.start) closed when the test ends. */
export async function startReceiver(t: { after(fn: () => unknown): void }): Promise<HttpReceiver> {
  const rx = await HttpReceiver.start();
  t.after(() => rx.close());
  return rx;
}
