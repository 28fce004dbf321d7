// Writes the shipping benchmark's input: a deterministic nginx "combined" access log whose every line
// carries its sequence number in the request path (`?seq=N`, 1..LINES), so the receiver can check
// that each line arrived once. Same arguments, same bytes (a seeded PRNG, fixed clock).
// Usage: node bench/ship/gen.ts OUT [LINES]   (LINES defaults to 1,000,000: about 160 MB)
// Also a module: accessLines(count) yields the same lines (bench/ship/parse.ts parses them).
import { closeSync, openSync, writeSync } from 'node:fs';

// mulberry32: small, fast and good enough to vary the fields.
let state = 0x5eed1234;
function rand(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

const methods = ['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD'];
const paths = [
  '/',
  '/index.html',
  '/api/v1/users/{id}',
  '/api/v1/orders/{id}/items',
  '/api/v2/search',
  '/static/js/app.{id}.js',
  '/static/css/main.css',
  '/images/products/{id}.jpg',
  '/login',
  '/healthz',
  '/cart/checkout',
  '/blog/2026/11/how-we-ship-logs',
];
const statuses = [200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 499, 500, 502, 503];
const referers = ['-', '-', 'https://www.example.com/', 'https://www.example.com/cart', 'https://search.example.org/?q=shoes'];
const agents = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Mobile/15E148',
  'curl/8.5.0',
  'Go-http-client/1.1',
  'kube-probe/1.31',
  'Prometheus/2.42.0',
];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

// A fixed start, 20 lines per second of log time.
const t0 = Date.UTC(2026, 10, 22, 0, 0, 0);

/** Lines 1..count, without their newlines; the same sequence on every call. */
export function* accessLines(count: number): Generator<string> {
  state = 0x5eed1234;
  for (let seq = 1; seq <= count; seq++) {
    const d = new Date(t0 + Math.floor(seq / 20) * 1000);
    const time = `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
    const ip = `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
    const user = rand() < 0.05 ? 'alice' : '-';
    const path = pick(paths).replace('{id}', String(int(1, 99999)));
    yield `${ip} - ${user} [${time}] "${pick(methods)} ${path}?seq=${seq} HTTP/1.1" ${pick(statuses)} ${int(0, 60000)} "${pick(referers)}" "${pick(agents)}"`;
  }
}

if (import.meta.main) {
  const [out, linesArg = '1000000'] = process.argv.slice(2);
  if (!out) throw new Error('usage: gen.ts OUT [LINES]');
  const lines = Number(linesArg);
  if (!Number.isSafeInteger(lines) || lines < 1) throw new Error(`bad LINES: ${linesArg}`);
  const fd = openSync(out, 'w');
  let chunk = '';
  let bytes = 0;
  for (const line of accessLines(lines)) {
    chunk += line + '\n';
    if (chunk.length >= 1 << 20) {
      bytes += writeSync(fd, chunk);
      chunk = '';
    }
  }
  if (chunk) bytes += writeSync(fd, chunk);
  closeSync(fd);
  console.log(JSON.stringify({ file: out, lines, bytes }));
}
