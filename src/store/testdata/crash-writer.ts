// Child process of the kill -9 test: writes to a SQLite store until it is killed, and prints
// each committed revision ("rev N") so the test knows what was acknowledged before the kill.
import { openStore } from '../index.ts';

const store = await openStore(`sqlite:${process.argv[2]!}`);
const value = (n: number): string => JSON.stringify({ n, pad: 'x'.repeat(n % 7 === 0 ? 20_000 : 50) });
for (let n = 0; ; n++) {
  const key = (i: number): string => `/crash/${(n * 7 + i) % 50}`;
  const lease = n % 10 === 0 ? (await store.grant(60, { autoKeepAlive: false })).id : undefined;
  const { revision } = await store.txn({
    success: [
      { op: 'put', key: key(0), value: value(n), ...(lease !== undefined && { lease }) },
      { op: 'put', key: key(1), value: value(n + 1) },
      { op: 'delete', key: key(3) },
      { op: 'put', key: key(2), value: value(n + 2) },
    ],
  });
  process.stdout.write(`rev ${revision}\n`);
}
