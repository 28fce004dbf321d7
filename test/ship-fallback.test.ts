// End to end: a primary HTTP sink answering 503 hands its batches to a fallback file sink, and takes
// new lines again once it recovers; nothing is lost in between, and /metrics counts the failover.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEntry, seqOf, startReceiver } from './helpers/receiver.ts';
import { appendSeqLines, fileSource, httpSink, q, readIfExists, shipHead, shipWorkspace, startShip, until } from './helpers/ship.ts';

/** Sequence numbers of the entries in an NDJSON file (none when it does not exist yet). */
function fileSeqs(path: string, tag?: string): Set<number> {
  const out = new Set<number>();
  for (const line of readIfExists(path).split('\n')) {
    const e = line === '' ? undefined : parseEntry(line);
    if (!e || (tag !== undefined && !e.message.startsWith(`${tag} `))) continue;
    const s = seqOf(e.message);
    if (s !== undefined) out.add(s);
  }
  return out;
}

test('fallback: a failing primary hands batches to the fallback sink, and takes new lines back once it recovers', async (t) => {
  const { dir, data, log, file } = shipWorkspace(t);
  const rx = await startReceiver(t);
  rx.behave({ mode: 'status', status: 503, retryAfterSeconds: 1 });
  const spool = join(dir, 'spool', 'fallback.ndjson');
  writeFileSync(file, [
    shipHead(data),
    fileSource('app', log),
    httpSink('primary', ['app'], rx.url,
      'fallback = "spool"',
      'batch = { max_events = 100, timeout = "100ms" }',
      'retry = { initial_backoff = "200ms", max_backoff = "1s" }'),
    `[sinks.spool]
type = "file"
inputs = []
path = ${q(spool)}
batch = { timeout = "100ms" }
`,
  ].join(''));
  const ship = await startShip(t, file);

  // Primary failing: the lines land in the spool file, none is lost.
  await appendSeqLines(log, 0, 1000, { tag: 'down' });
  await until(() => fileSeqs(spool, 'down').size === 1000, 'every line written while the primary fails to be in the fallback file');
  assert.equal(rx.seqs('down').size, 0);
  assert.ok(rx.rejected >= 1, 'the primary was tried');
  const failovers = await ship.metric('opsctl_ship_sink_failover_batches_total', { sink: 'primary', fallback: 'spool' });
  assert.ok(failovers >= 10, `${failovers} batches failed over (1000 lines in batches of 100)`);
  assert.equal(await ship.metric('opsctl_ship_sink_healthy', { sink: 'primary' }), 0);

  // The primary recovers: it is tried again when its backoff (here Retry-After: 1) is over and a
  // batch comes; until then batches still go to the fallback. Lines keep coming until one arrives.
  rx.behave({ mode: 'accept' });
  let back = 1000;
  await until(async () => {
    if (rx.seqs('back').size > 0) return true;
    await appendSeqLines(log, back, back + 20, { tag: 'back' });
    back += 20;
    return false;
  }, 'the primary to take lines again');
  await until(() => {
    const spooled = fileSeqs(spool, 'back');
    const got = rx.seqs('back');
    for (let s = 1000; s < back; s++) if (!got.has(s) && !spooled.has(s)) return false;
    return true;
  }, 'every line written around the recovery in one sink or the other');
  assert.equal(await ship.metric('opsctl_ship_sink_healthy', { sink: 'primary' }), 1);

  // Handed back: lines written after the recovery all go to the primary, none to the fallback.
  const failoversBefore = await ship.metric('opsctl_ship_sink_failover_batches_total', { sink: 'primary', fallback: 'spool' });
  await appendSeqLines(log, 10_000, 11_000, { tag: 'after' });
  await rx.waitForSeqs(10_000, 11_000, 20_000, 'after');
  assert.equal(fileSeqs(spool, 'after').size, 0, 'lines written after the recovery went to the fallback');
  assert.equal(await ship.metric('opsctl_ship_sink_failover_batches_total', { sink: 'primary', fallback: 'spool' }), failoversBefore);
  assert.ok(await ship.metric('opsctl_ship_events_out_total', { component: 'spool' }) >= 1000);
  const res = await ship.stop();
  assert.equal(res.code, 0, res.stderr);
});
