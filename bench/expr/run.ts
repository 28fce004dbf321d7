// Micro-benchmark: a compiled expression against the arrow function one would write by hand.
// Run: node_modules/.bin/node bench/expr/run.ts [records]   (not a test; prints ns per record)
import { compile } from '../../src/core/expr.ts';

type Filter = (record: unknown) => boolean;
type Loop = (filter: Filter, records: readonly unknown[]) => number;

const n = Number(process.argv[2] ?? 1e6);
const users = ['root', 'www-data', 'postgres', 'alice'];
const paths = ['/api/v1/users', '/health', '/api/v2/orders', '/static/app.js'];
const units = ['nginx.service', 'sshd.service', 'cron.service', 'postgresql.service'];
const procs = Array.from({ length: n }, (_, i) => ({
  pid: i + 1, user: users[i % 4], cpu: (i * 7919) % 100, rss: ((i * 104_729) % 4096) * 1024 * 1024, labels: { unit: units[(i >> 2) % 4] },
}));
const logs = Array.from({ length: n }, (_, i) => ({
  status: String([200, 204, 404, 500, 503][i % 5]), path: paths[(i >> 1) % 4], latency: String(((i * 31) % 1000) / 1000),
}));

const unitSet = new Set(['nginx.service', 'sshd.service']);
const apiPrefix = /^\/api\//;
// Hand-written filters read typed records; the compiled ones take unknown, so the arrows are cast to match.
const cases: Array<{ name: string; source: string; hand: Filter; records: readonly unknown[] }> = [
  { name: 'ps: numbers and a string', source: "cpu > 50 && user == 'root'", records: procs,
    hand: ((r: (typeof procs)[number]) => r.cpu > 50 && r.user === 'root') as Filter },
  { name: 'ps: size unit and a list', source: "rss > 1GiB || labels.unit in ['nginx.service', 'sshd.service']", records: procs,
    hand: ((r: (typeof procs)[number]) => r.rss > 1024 ** 3 || unitSet.has(r.labels.unit as string)) as Filter },
  { name: 'log: numeric strings and a regex', source: "status >= 500 && path ~ '^/api/'", records: logs,
    hand: ((r: (typeof logs)[number]) => Number(r.status) >= 500 && apiPrefix.test(r.path as string)) as Filter },
];

// Each measurement gets its own loop function, so V8's call-site feedback is not shared between filters.
function freshLoop(): Loop {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('filter', 'records', 'let hits = 0; for (let i = 0; i < records.length; i++) if (filter(records[i])) hits++; return hits;') as Loop;
}

/** Best ns per record for each filter, rounds interleaved so machine noise hits both alike. */
function measure(filters: readonly Filter[], records: readonly unknown[]): Array<{ ns: number; hits: number }> {
  const results = filters.map(() => ({ ns: Infinity, hits: 0, loop: freshLoop() }));
  for (let round = 0; round < 12; round++) {
    for (const [i, filter] of filters.entries()) {
      const res = results[i] as (typeof results)[number];
      const start = process.hrtime.bigint();
      res.hits = res.loop(filter, records);
      const ns = Number(process.hrtime.bigint() - start) / records.length;
      if (round >= 2) res.ns = Math.min(res.ns, ns); // two warm-up rounds
    }
  }
  return results;
}

console.log(`node ${process.version}, ${n} records, best of 10 interleaved rounds after 2 warm-up rounds`);
for (const c of cases) {
  const compiled = compile(c.source);
  const [expr, hand] = measure([compiled.test, c.hand], c.records) as [{ ns: number; hits: number }, { ns: number; hits: number }];
  if (hand.hits !== expr.hits) throw new Error(`${c.name}: compiled matched ${expr.hits}, hand-written ${hand.hits}`);
  console.log(`${c.name.padEnd(34)} hand-written ${hand.ns.toFixed(2).padStart(6)} ns/op   compiled ${expr.ns.toFixed(2).padStart(6)} ns/op   (${c.source})`);
}
