// Times sequential scrapes of one exporter's /metrics and reads its CPU and memory from /proc.
// Usage: node bench/agent/scrape.ts NAME URL PID [WARMUP] [SCRAPES]
// Prints one markdown table row:
// | NAME | median ms | p99 ms | CPU ms/scrape | body bytes | series | idle RSS MiB | peak RSS MiB |
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const [name, url, pidArg, warmupArg = '10', scrapesArg = '200'] = process.argv.slice(2);
if (!name || !url || !pidArg) throw new Error('usage: scrape.ts NAME URL PID [WARMUP] [SCRAPES]');
const target: string = url;
const pid = Number(pidArg);
const warmup = Number(warmupArg);
const scrapes = Number(scrapesArg);
const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

function cpuTicks(): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
}
function statusKib(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`${key} not in /proc/${pid}/status`);
  return Number(m[1]);
}
async function scrape(): Promise<string> {
  // fetch sends Accept-Encoding: gzip, deflate (as Prometheus asks for gzip); the body is decoded.
  const res = await fetch(target);
  if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
  return res.text();
}

for (let i = 0; i < warmup; i++) await scrape();
await sleep(2000);
const idleKib = statusKib('VmRSS');

const times: number[] = [];
let body = '';
const c0 = cpuTicks();
for (let i = 0; i < scrapes; i++) {
  const t0 = performance.now();
  body = await scrape();
  times.push(performance.now() - t0);
}
const c1 = cpuTicks();
const peakKib = statusKib('VmHWM');

times.sort((a, b) => a - b);
const q = (p: number): number => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!;
const median = times.length % 2 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
const series = body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
const cpuMs = ((c1 - c0) * 1000) / hz / scrapes;
const mib = (k: number): string => (k / 1024).toFixed(1);
console.log(
  `| ${name} | ${median.toFixed(2)} | ${q(0.99).toFixed(2)} | ${cpuMs.toFixed(2)} | ${Buffer.byteLength(body)} | ${series} | ${mib(idleKib)} | ${mib(peakKib)} |`,
);
