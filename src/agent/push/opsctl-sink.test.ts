// The opsctl push protocol: batch building, the idempotency key, the receiver's schema, the sink.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Registry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { buildPushBatch, chunkRecords, fromWireValue, idempotencyKey, pushBatchSchema, pushHeaders } from '../push-protocol.ts';
import { pushMetrics } from './metrics.ts';
import { opsctlSink } from './opsctl-sink.ts';
import { Pusher } from './pusher.ts';

const series = [{ labels: { __name__: 'node_load1' }, samples: [{ value: 0.5, timestampMs: 1_700_000_000_000 }] }];

test('the idempotency key is sha256 hex of host, first timestamp and seq, newline-separated', () => {
  const expected = createHash('sha256').update('web-1\n1700000000000\n7').digest('hex');
  assert.equal(idempotencyKey('web-1', 1_700_000_000_000, 7), expected);
  assert.notEqual(idempotencyKey('web-1', 1_700_000_000_000, 8), expected);
  assert.notEqual(idempotencyKey('web-2', 1_700_000_000_000, 7), expected);
});

test('a built batch passes the receiver schema; special values survive JSON', () => {
  const batch = buildPushBatch('web-1', 3, [
    { timestampMs: 1_700_000_000_000, series },
    { timestampMs: 1_700_000_015_000, series: [{ labels: { __name__: 'x' }, samples: [{ value: NaN, timestampMs: 1 }, { value: Infinity, timestampMs: 2 }, { value: -Infinity, timestampMs: 3 }] }] },
  ]);
  assert.equal(batch.idempotency_key, idempotencyKey('web-1', 1_700_000_000_000, 3));
  const parsed = pushBatchSchema.parse(JSON.parse(JSON.stringify(batch)));
  assert.deepEqual(parsed.records[1]?.series[0]?.samples.map((s) => fromWireValue(s.value)), [NaN, Infinity, -Infinity]);
  assert.throws(() => buildPushBatch('web-1', 0, []), RangeError);
});

test('the schema refuses unknown keys, a missing __name__ and a bad key', () => {
  const good = buildPushBatch('h', 0, [{ timestampMs: 1, series }]);
  assert.equal(pushBatchSchema.safeParse({ ...good, extra: 1 }).success, false);
  assert.equal(pushBatchSchema.safeParse({ ...good, idempotency_key: 'abc' }).success, false);
  assert.equal(pushBatchSchema.safeParse({ ...good, records: [] }).success, false);
  assert.equal(pushBatchSchema.safeParse({ ...good, version: 2 }).success, false);
  const noName = { ...good, records: [{ timestamp_ms: 1, series: [{ labels: { a: 'b' }, samples: [] }] }] };
  assert.equal(pushBatchSchema.safeParse(noName).success, false);
});

test('records split into batches of 10 by default', () => {
  assert.deepEqual(chunkRecords([...Array(23).keys()]).map((c) => c.length), [10, 10, 3]);
  assert.deepEqual(chunkRecords([1, 2, 3], 2), [[1, 2], [3]]);
});

test('the sink posts valid batches with their headers; a retry resends the same key', async (t) => {
  const got: Array<{ headers: IncomingHttpHeaders; body: unknown }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      got.push({ headers: req.headers, body: JSON.parse(body) });
      res.statusCode = got.length === 1 ? 503 : 202;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  const pusher = new Pusher({ sink: opsctlSink({ url, hostId: 'web-1' }), log: silentLogger(), metrics: pushMetrics(new Registry()), batchRecords: 2, policy: { baseDelayMs: 5 } });
  pusher.start();
  pusher.enqueue({ timestampMs: 10, series });
  pusher.enqueue({ timestampMs: 20, series });
  await pusher.stop();
  assert.equal(got.length, 2);
  const [a, b] = got.map((g) => pushBatchSchema.parse(g.body));
  assert.equal(a?.idempotency_key, b?.idempotency_key);
  assert.equal(a?.idempotency_key, idempotencyKey('web-1', 10, 0));
  assert.equal(got[0]?.headers[pushHeaders.idempotencyKey.toLowerCase()], a?.idempotency_key);
  assert.equal(got[0]?.headers[pushHeaders.version.toLowerCase()], '1');
  assert.equal(got[0]?.headers['content-type'], 'application/json');
});
