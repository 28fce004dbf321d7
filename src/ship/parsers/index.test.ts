import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parsers } from './index.ts';
import { compilePattern } from './regex.ts';
import { autoTime, compileTimeFormat, type TimeParser } from './timestamp.ts';

const pattern = compilePattern('^(?<a>\\w+)=(?<b>.*)$') as RegExp;
const lineParsers = Object.entries(parsers).map(([name, definition]) => ({ name, parse: definition.create({ pattern }) }));

// Strings made to look like the formats, so the property also reaches past the first check of each parser.
const pieces = fc.constantFrom('<34>', '<165>1 ', '1 ', ' ', '-', '[', ']', '"', '\\', '\\x', '=', ':', '{', '}', '[22/Nov/2026:10:00:00 +0000]',
  'Nov 22 10:00:00 ', '2026-11-22T10:00:00Z', '"GET / HTTP/1.1" ', '200 ', 'a="b"', 'msg=', '[id x="y"]', '\uFEFF', '\uD800', '\u0000');
const nearlyLines = fc.array(fc.oneof(pieces, fc.string({ maxLength: 5 })), { maxLength: 30 }).map((parts) => parts.join(''));

test('parsers never throw, on arbitrary strings and on near-misses of their formats', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), nearlyLines), (line) => {
    for (const { name, parse } of lineParsers) {
      const result = parse(line);
      assert.ok(typeof result === 'string' || (typeof result === 'object' && typeof result.fields === 'object'), name);
    }
  }), { numRuns: 2000 });
});

test('time parsers never throw', () => {
  const format = compileTimeFormat('%Y-%m-%d %H:%M:%S %z') as TimeParser;
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.double(), fc.anything(), nearlyLines), (value) => {
    for (const parse of [autoTime, format]) {
      const ms = parse(value, Date.now());
      assert.ok(ms === undefined || Number.isFinite(ms));
    }
  }), { numRuns: 2000 });
});
