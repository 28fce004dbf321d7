import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Multiline } from './multiline.ts';

function run(ml: Multiline, input: string[]): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  let offset = 0;
  for (const line of input) {
    const end = offset + Buffer.byteLength(line) + 1;
    ml.line(line, offset, end, 0, 0, (text, start, stop) => out.push([text, start, stop]));
    offset = end;
  }
  return out;
}

test('start pattern: an event ends when the next one starts; flush emits the pending one', () => {
  const ml = new Multiline({ startPattern: /^\d/, maxLines: 10 });
  const out = run(ml, ['orphan', '1 a', ' x', '2 b']);
  assert.deepEqual(out, [['orphan', 0, 7], ['1 a\n x', 7, 14]]);
  assert.equal(ml.pending, true);
  assert.equal(ml.pendingStart, 14);
  ml.flush((text, start, end) => out.push([text, start, end]));
  assert.deepEqual(out.at(-1), ['2 b', 14, 18]);
  assert.equal(ml.pending, false);
});

test('continuation pattern and max_lines', () => {
  const ml = new Multiline({ continuationPattern: /^\s/, maxLines: 2 });
  const out = run(ml, ['a', ' 1', ' 2', 'b']);
  assert.deepEqual(out.map((e) => e[0]), ['a\n 1', ' 2']);
});
