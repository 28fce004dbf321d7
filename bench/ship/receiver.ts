// The shipping benchmark's receiving end: one process with a TCP listener (newline-delimited lines)
// and an HTTP listener (POST bodies of lines or NDJSON, gzip accepted, 200 reply). Each line's
// sequence number (the digits after the first "seq=", as bench/ship/gen.ts writes them; found in raw
// lines and JSON-encoded entries alike) is marked in a bitmap of EXPECT.
// Usage: node bench/ship/receiver.ts EXPECT [TCP_PORT] [HTTP_PORT]   (ports default to 0: any free one)
// Prints {"tcp":PORT,"http":PORT} once listening, then one JSON summary when all EXPECT distinct
// numbers were seen (and exits) or on SIGTERM/SIGINT:
// {lines, distinct, missing, duplicates, other, first_ms, last_ms, bytes, cpu_ms} — times are Unix
// epoch ms of the first and last line with a sequence number; `other` counts non-empty lines without
// one; cpu_ms is the receiver's own CPU time when the set was complete (to see it is not the bottleneck).
import { createServer as createTcpServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { AddressInfo } from 'node:net';

const [expectArg, tcpArg = '0', httpArg = '0'] = process.argv.slice(2);
const expect = Number(expectArg);
if (!Number.isSafeInteger(expect) || expect < 1) throw new Error('usage: receiver.ts EXPECT [TCP_PORT] [HTTP_PORT]');

const seen = new Uint8Array(expect + 1);
let lines = 0;
let distinct = 0;
let duplicates = 0;
let other = 0;
let bytes = 0;
let firstMs = 0;
let lastMs = 0;
let done = false;
const now = (): number => performance.timeOrigin + performance.now();
const SEQ = Buffer.from('seq=');

/** Counts the complete lines of `buf` from 0 to `end` (exclusive; `end` is at a newline or the body end). */
function scan(buf: Buffer, end: number): void {
  let pos = 0;
  let s = buf.indexOf(SEQ, 0);
  let found = 0;
  while (pos < end) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl > end) nl = end;
    while (s >= 0 && s < pos) s = buf.indexOf(SEQ, pos);
    if (s >= 0 && s < nl) {
      let n = 0;
      let i = s + 4;
      for (; i < nl; i++) {
        const c = buf[i]!;
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
      }
      lines++;
      found++;
      if (i > s + 4 && n >= 1 && n <= expect) {
        if (seen[n]) duplicates++;
        else {
          seen[n] = 1;
          distinct++;
        }
      } else other++;
    } else if (nl > pos && !(nl === pos + 1 && buf[pos] === 13)) other++;
    pos = nl + 1;
  }
  if (found > 0) {
    lastMs = now();
    if (firstMs === 0) firstMs = lastMs;
  }
  if (distinct === expect) finish();
}

/** Feeds a stream of newline-delimited chunks through scan(), carrying a partial last line over. */
function lineFeeder(): { push(chunk: Buffer): void; end(): void } {
  let tail: Buffer | undefined;
  return {
    push(chunk) {
      bytes += chunk.length;
      const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
      const last = buf.lastIndexOf(10);
      if (last < 0) {
        tail = buf;
        return;
      }
      scan(buf, last);
      tail = last + 1 < buf.length ? buf.subarray(last + 1) : undefined;
    },
    end() {
      if (tail) scan(tail, tail.length);
      tail = undefined;
    },
  };
}

/** All seen (or told to stop): keep counting late duplicates for a moment (and answer the request
 * in flight), then print the summary with the time the set was complete and exit. */
function finish(): void {
  if (done) return;
  done = true;
  const completeMs = lastMs;
  const cpu = process.cpuUsage();
  const cpuAtComplete = (cpu.user + cpu.system) / 1000;
  setTimeout(() => {
    const summary = { lines, distinct, missing: expect - distinct, duplicates, other, first_ms: Math.round(firstMs), last_ms: Math.round(completeMs), bytes, cpu_ms: Math.round(cpuAtComplete) };
    process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(0));
  }, 500);
}

const tcp = createTcpServer((socket) => {
  const feed = lineFeeder();
  socket.on('data', (chunk: Buffer) => feed.push(chunk));
  socket.on('end', () => feed.end());
  socket.on('error', () => feed.end());
});

const http = createHttpServer((req, res) => {
  const feed = lineFeeder();
  const body = req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
  body.on('data', (chunk: Buffer) => feed.push(chunk));
  body.on('end', () => {
    feed.end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
  body.on('error', () => res.writeHead(400).end('bad body\n'));
});
http.keepAliveTimeout = 60_000;

await Promise.all([
  new Promise<void>((resolve) => tcp.listen(Number(tcpArg), '127.0.0.1', resolve)),
  new Promise<void>((resolve) => http.listen(Number(httpArg), '127.0.0.1', resolve)),
]);
console.log(JSON.stringify({ tcp: (tcp.address() as AddressInfo).port, http: (http.address() as AddressInfo).port }));
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
