// Remote-write encoding checked against hand-computed bytes, decoded back by a test-only protobuf
// and snappy decoder, and the sink's HTTP outcomes against a real listener.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Registry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { pushMetrics } from './metrics.ts';
import { Pusher } from './pusher.ts';
import { encodeWriteRequest, mergeSeries, remoteWriteBody, remoteWriteSink } from './remote-write.ts';
import type { TimeSeries } from './series.ts';
import { snappyEncode } from './snappy.ts';

/** Snappy block decoder (literals and all three copy forms), written from the format description. */
function snappyDecode(src: Uint8Array): Uint8Array {
  let at = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[at++] as number;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let o = 0;
  const le = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v += (src[at + i] as number) * 256 ** i;
    at += n;
    return v;
  };
  while (at < src.length) {
    const tag = src[at++] as number;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) n = le(n - 59);
      n += 1;
      out.set(src.subarray(at, at + n), o);
      at += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | le(1);
    } else {
      n = (tag >> 2) + 1;
      offset = le(kind === 2 ? 2 : 4);
    }
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset] as number;
  }
  assert.equal(o, length, 'decoded length matches the preamble');
  return out;
}

type Field = { field: number; wire: number; value: bigint | Uint8Array };

/** Protobuf fields of a message (varint, fixed64 and length-delimited only). */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++] as number;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) {
      out.push({ field, wire, value: buf.slice(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const n = Number(varint());
      out.push({ field, wire, value: buf.slice(at, at + n) });
      at += n;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const text = new TextDecoder();
const bytesOf = (f: Field): Uint8Array => f.value as Uint8Array;

/** A WriteRequest back into series, labels in wire order. */
function decodeWriteRequest(buf: Uint8Array): Array<{ labels: Array<[string, string]>; samples: Array<{ value: number; timestampMs: number }> }> {
  return fields(buf).filter((f) => f.field === 1).map((ts) => {
    const parts = fields(bytesOf(ts));
    return {
      labels: parts.filter((p) => p.field === 1).map((l) => {
        const [name, value] = fields(bytesOf(l));
        return [text.decode(bytesOf(name as Field)), text.decode(bytesOf(value as Field))] as [string, string];
      }),
      samples: parts.filter((p) => p.field === 2).map((s) => {
        const sf = fields(bytesOf(s));
        const v = sf.find((f) => f.field === 1);
        const t = sf.find((f) => f.field === 2);
        return {
          value: v ? new DataView(bytesOf(v).buffer).getFloat64(0, true) : 0,
          timestampMs: t ? Number(BigInt.asIntN(64, t.value as bigint)) : 0,
        };
      }),
    };
  });
}

test('a WriteRequest encodes to the hand-computed bytes', () => {
  const bytes = encodeWriteRequest([{ labels: { __name__: 'up' }, samples: [{ value: 1, timestampMs: 1000 }] }]);
  const label = [0x0a, 0x08, ...Buffer.from('__name__'), 0x12, 0x02, ...Buffer.from('up')];
  const sample = [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0xe8, 0x07];
  const series = [0x0a, label.length, ...label, 0x12, sample.length, ...sample];
  assert.deepEqual([...bytes], [0x0a, series.length, ...series]);
  assert.equal(bytes.length, 32);
});

test('labels are sorted by name and everything round-trips', () => {
  const series: TimeSeries[] = [
    { labels: { mode: 'idle', __name__: 'node_cpu_seconds_total', cpu: '0' }, samples: [{ value: 12.5, timestampMs: 1_763_791_200_123 }, { value: 13, timestampMs: 1_763_791_215_123 }] },
    { labels: { __name__: 'weird', city: 'Zürich' }, samples: [{ value: -0.25, timestampMs: -5 }, { value: NaN, timestampMs: 0 }] },
  ];
  const decoded = decodeWriteRequest(encodeWriteRequest(series));
  assert.deepEqual(decoded[0]?.labels, [['__name__', 'node_cpu_seconds_total'], ['cpu', '0'], ['mode', 'idle']]);
  assert.deepEqual(decoded[0]?.samples, series[0]?.samples);
  assert.deepEqual(decoded[1]?.labels, [['__name__', 'weird'], ['city', 'Zürich']]);
  assert.equal(decoded[1]?.samples[0]?.timestampMs, -5);
  assert.ok(Number.isNaN(decoded[1]?.samples[1]?.value));
});

test('snappy blocks decode back to the input, across literal sizes', () => {
  assert.deepEqual([...snappyEncode(Uint8Array.of(1, 2, 3))], [3, 8, 1, 2, 3]);
  for (const n of [0, 1, 59, 60, 61, 255, 256, 257, 65_535, 65_536, 65_537, 200_000]) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
    assert.deepEqual(snappyDecode(snappyEncode(data)), data, `length ${n}`);
  }
});

test('records merge into one series per label set, samples in order', () => {
  const merged = mergeSeries([
    { timestampMs: 1, series: [{ labels: { __name__: 'a', x: '1' }, samples: [{ value: 1, timestampMs: 1 }] }] },
    { timestampMs: 2, series: [{ labels: { x: '1', __name__: 'a' }, samples: [{ value: 2, timestampMs: 2 }] }, { labels: { __name__: 'b' }, samples: [{ value: 3, timestampMs: 2 }] }] },
  ]);
  assert.deepEqual(merged.map((s) => [s.labels.__name__, s.samples.map((p) => p.value)]), [['a', [1, 2]], ['b', [3]]]);
});

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

async function receiver(t: TestContext, answer: (n: number) => { status: number; headers?: Record<string, string> }): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const a = answer(got.length);
      res.writeHead(a.status, a.headers);
      res.end(a.status >= 400 ? 'refused' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, got };
}

const record = (i: number) => ({ timestampMs: 1000 + i, series: [{ labels: { __name__: 'm' }, samples: [{ value: i, timestampMs: 1000 + i }] }] });

test('the sink posts snappy protobuf with the remote-write headers; 400 is dropped, not retried', async (t) => {
  const { url, got } = await receiver(t, (n) => ({ status: n === 1 ? 400 : 204 }));
  const registry = new Registry();
  const metrics = pushMetrics(registry);
  const pusher = new Pusher({ sink: remoteWriteSink({ url }), log: silentLogger(), metrics, batchRecords: 1, policy: { baseDelayMs: 5 } });
  pusher.start();
  pusher.enqueue(record(0));
  pusher.enqueue(record(1));
  await pusher.stop();
  assert.equal(got.length, 2, 'one request per batch: the 400 was not retried');
  const first = got[0] as Received;
  assert.equal(first.headers['content-encoding'], 'snappy');
  assert.equal(first.headers['content-type'], 'application/x-protobuf');
  assert.equal(first.headers['x-prometheus-remote-write-version'], '0.1.0');
  assert.match(first.headers['user-agent'] ?? '', /^opsctl\//);
  assert.deepEqual(got.map((r) => decodeWriteRequest(snappyDecode(r.body))[0]?.samples[0]?.value), [0, 1]);
  assert.equal((await metrics.dropped.get()).values.find((v) => v.labels.reason === 'rejected')?.value, 1);
  assert.equal((await metrics.sent.get()).values[0]?.value, 1);
  assert.equal((await metrics.retried.get()).values[0]?.value, 0);
});

test('429 and 5xx are retried, Retry-After honoured', async (t) => {
  const { url, got } = await receiver(t, (n) => n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : n === 2 ? { status: 502 } : { status: 200 });
  const metrics = pushMetrics(new Registry());
  const pusher = new Pusher({ sink: remoteWriteSink({ url }), log: silentLogger(), metrics, batchRecords: 1, policy: { baseDelayMs: 5 }, stopGraceMs: 5000 });
  pusher.start();
  const started = Date.now();
  pusher.enqueue(record(0));
  await pusher.stop();
  assert.equal(got.length, 3);
  assert.ok(Date.now() - started >= 950, 'waited the Retry-After second');
  assert.ok(got.every((r) => r.body.equals((got[0] as Received).body)), 'the same body each attempt');
  assert.equal((await metrics.retried.get()).values[0]?.value, 2);
  assert.equal((await metrics.sent.get()).values[0]?.value, 1);
});

test('remoteWriteBody of a batch is the merged series', () => {
  const body = remoteWriteBody({ seq: 0, records: [record(0), record(1)] });
  assert.deepEqual(decodeWriteRequest(snappyDecode(body)), [{ labels: [['__name__', 'm']], samples: [{ value: 0, timestampMs: 1000 }, { value: 1, timestampMs: 1001 }] }]);
});
