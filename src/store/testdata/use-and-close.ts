// Child process of the conformance suite: uses every long-lived part of a store (a kept-alive
// lease, a watch, a past-revision watch) and closes it; it must then exit without process.exit().
import { openStore } from '../index.ts';

const store = await openStore(process.argv[2]!);
const prefix = `/use-and-close/${process.pid}/`;
const lease = await store.grant(2);
const rev = await store.put(`${prefix}a`, '1', { lease: lease.id });
const live = store.watch(prefix, { fromRevision: rev + 1 })[Symbol.asyncIterator]();
const idle = store.watch(prefix, { fromRevision: rev + 100 })[Symbol.asyncIterator]();
const idleNext = idle.next();
const next = live.next();
await store.put(`${prefix}b`, '2');
if ((await next).done) throw new Error('the live watch ended before its event');
await store.close();
if (!(await idleNext).done) throw new Error('an idle watch saw an event');
process.stdout.write('closed\n');
