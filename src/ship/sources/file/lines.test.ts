import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVALID_UTF8, LineSplitter, TRUNCATED } from './lines.ts';

interface Got { text: string; start: number; end: number; flags: number; original: number }

function split(chunks: Array<string | Buffer>, max = 1024, flush = false): { lines: Got[]; splitter: LineSplitter } {
  const splitter = new LineSplitter(max);
  const lines: Got[] = [];
  const onLine = (text: string, start: number, end: number, flags: number, original: number): void => {
    lines.push({ text, start, end, flags, original });
  };
  let offset = 0;
  for (const c of chunks) {
    const buf = typeof c === 'string' ? Buffer.from(c) : c;
    splitter.push(buf, offset, onLine);
    offset += buf.length;
  }
  if (flush) splitter.flush(onLine);
  return { lines, splitter };
}

test('lines split across chunks keep their byte offsets', () => {
  const { lines, splitter } = split(['ab\ncd', 'e\r\n\nfg', 'h']);
  assert.deepEqual(lines.map((l) => [l.text, l.start, l.end]), [['ab', 0, 3], ['cde', 3, 8], ['', 8, 9]]);
  assert.equal(splitter.partialBytes, 3);
  assert.equal(splitter.partialStart, 9);
});

test('a partial line is only emitted on flush', () => {
  assert.deepEqual(split(['a\nlast']).lines.map((l) => l.text), ['a']);
  assert.deepEqual(split(['a\nlast\r'], 1024, true).lines.map((l) => [l.text, l.start, l.end]), [['a', 0, 2], ['last', 2, 7]]);
});

test('non-ASCII lines have byte offsets and are not flagged', () => {
  const { lines } = split(['héllo\nwörld\n']);
  assert.deepEqual(lines.map((l) => [l.text, l.start, l.flags]), [['héllo', 0, 0], ['wörld', 7, 0]]);
});

test('a multibyte character cut by a chunk boundary is decoded whole', () => {
  const bytes = Buffer.from('€uro\n');
  const { lines } = split([bytes.subarray(0, 1), bytes.subarray(1)]);
  assert.deepEqual(lines.map((l) => [l.text, l.flags]), [['€uro', 0]]);
});

test('invalid UTF-8 is replaced and flagged', () => {
  const { lines } = split([Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x6f, 0x6b, 0x0a, 0xc3, 0xa9, 0x0a])]);
  assert.deepEqual(lines.map((l) => [l.text, l.flags]), [['a\ufffdb', INVALID_UTF8], ['ok', 0], ['é', 0]]);
  const cross = split([Buffer.from([0x61]), Buffer.from([0xfe, 0x0a])]).lines;
  assert.deepEqual(cross.map((l) => [l.text, l.flags]), [['a\ufffd', INVALID_UTF8]]);
});

test('long lines are cut to the limit with their original length, in one chunk or many', () => {
  const long = 'x'.repeat(50);
  const one = split([`${long}\nok\n`], 10).lines;
  assert.deepEqual(one.map((l) => [l.text, l.flags, l.original, l.end]), [['x'.repeat(10), TRUNCATED, 50, 51], ['ok', 0, 0, 54]]);
  const many = split(['ab', 'x'.repeat(30), 'y'.repeat(30), 'z\nok\n'], 10).lines;
  assert.deepEqual(many.map((l) => [l.text, l.flags, l.original, l.start, l.end]), [['abxxxxxxxx', TRUNCATED, 63, 0, 64], ['ok', 0, 0, 64, 67]]);
});

test('a cut never splits a multibyte character', () => {
  const { lines } = split(['aaaa€€€\n'], 5);
  assert.equal(lines[0]?.text, 'aaaa');
  assert.equal(lines[0]?.flags, TRUNCATED);
});

test('garbage without newlines keeps at most the limit in memory', () => {
  const splitter = new LineSplitter(1000);
  let emitted = 0;
  const chunk = Buffer.alloc(64 * 1024, 0xfe);
  for (let i = 0; i < 160; i++) splitter.push(chunk, i * chunk.length, () => emitted++); // 10 MiB
  assert.equal(emitted, 0);
  assert.equal(splitter.partialBytes, 160 * chunk.length);
  const got: Got[] = [];
  splitter.push(Buffer.from('\n'), 160 * chunk.length, (text, start, end, flags, original) => got.push({ text, start, end, flags, original }));
  assert.equal(got.length, 1);
  assert.equal(got[0]?.original, 160 * chunk.length);
  assert.equal(got[0]?.flags, TRUNCATED | INVALID_UTF8);
  assert.ok((got[0]?.text.length ?? Infinity) <= 1000);
});
