// Tests for the expression language: operators, literals, semantics, errors with carets, injection, and properties.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { isOpsError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import { compile, decimal, maxDepth } from './expr.ts';
import type { CompileOptions } from './expr.ts';

/** Compiles and tests one record. */
const run = (source: string, record: unknown): boolean => compile(source).test(record);

/** Asserts that compiling throws an OpsError with this code and exactly this message. */
function assertError(source: string, code: ErrorCode, message: string[], options?: CompileOptions): void {
  assert.throws(
    () => compile(source, options),
    (err: unknown) => {
      assert.ok(isOpsError(err, code), `expected ${code}, got ${String(err)}`);
      assert.equal(err.message, message.join('\n'));
      return true;
    },
  );
}

function table(cases: ReadonlyArray<readonly [string, unknown, boolean]>): void {
  for (const [source, record, expected] of cases) assert.equal(run(source, record), expected, `${source} on ${inspect(record)}`);
}

test('comparison operators on numbers and strings', () => {
  const r = { cpu: 50, user: 'root' };
  table([
    ['cpu == 50', r, true], ['cpu != 50', r, false], ['cpu < 50', r, false], ['cpu <= 50', r, true],
    ['cpu > 49.5', r, true], ['cpu >= 51', r, false], ['50 == cpu', r, true], ['49 < cpu', r, true], ['60 <= cpu', r, false],
    ["user == 'root'", r, true], ['user != "root"', r, false], ["user < 's'", r, true], ["user >= 'root'", r, true],
    ["'b' > 'a'", {}, true], ['2 < 10', {}, true], ["'2' < '10'", {}, false],
    ['cpu == user', r, false], ['cpu < user', r, false], ['cpu == cpu', r, true], ['user <= user', r, true],
  ]);
});

test('&&, ||, ! and their keyword aliases', () => {
  const r = { a: 1, b: 0 };
  table([
    ['a == 1 && b == 0', r, true], ['a == 1 && b == 1', r, false], ['a == 2 || b == 0', r, true], ['a == 2 || b == 2', r, false],
    ['!(a == 1)', r, false], ['!a', r, false], ['!b', r, true], ['!!a', r, true],
    ['a == 1 and b == 0', r, true], ['a == 2 or b == 0', r, true], ['not (a == 1)', r, false], ['not b', r, true],
  ]);
});

test('precedence: ! over comparisons over && over ||', () => {
  const r = { a: 1, b: 2, c: 3 };
  table([
    ['a == 1 || b == 0 && c == 0', r, true], // || binds loosest: a == 1 || (b == 0 && c == 0)
    ['(a == 1 || b == 0) && c == 0', r, false],
    ['a == 0 && b == 2 || c == 3', r, true],
    ['!(a == 0) && b == 2', r, true],
    ['a == !missing', { a: true }, true], // ! binds tighter than ==
    ['(!a) == false', r, true],
    ['(a > 0) == (b > 0)', r, true],
    ['(a > 0) != (b > 5)', r, true],
  ]);
});

test('bare fields and literals are tested for truthiness', () => {
  table([
    ['up', { up: true }, true], ['up', { up: false }, false], ['up', { up: 0 }, false], ['up', { up: 'x' }, true],
    ['up', { up: '' }, false], ['up', {}, false], ['up', { up: null }, false], ['up', { up: {} }, true],
    ['true', {}, true], ['false', {}, false], ['null', {}, false], ['0', {}, false], ['1', {}, true], ["''", {}, false], ['"x"', {}, true],
  ]);
});

test('number literals: integers, floats, exponents, negatives', () => {
  table([
    ['x == 50', { x: 50 }, true], ['x == 0.5', { x: 0.5 }, true], ['x == 1e3', { x: 1000 }, true], ['x == 2.5E-1', { x: 0.25 }, true],
    ['x == -5', { x: -5 }, true], ['x > - 5', { x: -4 }, true], ['x == 1e999', { x: Infinity }, true], ['x < -1e999', { x: -1 }, false],
  ]);
});

test('string literals: both quotes and escapes', () => {
  table([
    [String.raw`s == 'it\'s'`, { s: "it's" }, true],
    [String.raw`s == "say \"hi\""`, { s: 'say "hi"' }, true],
    [String.raw`s == "a\\b"`, { s: 'a\\b' }, true],
    [String.raw`s == "a\nb\tc\r"`, { s: 'a\nb\tc\r' }, true],
    [String.raw`s == "\d"`, { s: '\\d' }, true], // unknown escapes keep their backslash
    [`s == "it's"`, { s: "it's" }, true],
    [`s == ''`, { s: '' }, true],
    [`s == "héllo ✓ 𝄞"`, { s: 'héllo ✓ 𝄞' }, true],
  ]);
});

test('booleans and null compare strictly', () => {
  table([
    ['x == true', { x: true }, true], ['x == true', { x: 1 }, false], ['x == false', { x: 0 }, false],
    ['x == null', { x: null }, true], ['x == null', {}, false], ['x != null', {}, true], ['x == true', { x: 'true' }, false],
  ]);
});

test('durations are seconds, sizes are bytes', () => {
  table([
    ['t == 90s', { t: 90 }, true], ['t == 300ms', { t: 0.3 }, true], ['t == 1h', { t: 3600 }, true], ['t == 1h30m', { t: 5400 }, true],
    ['t == 1m30s', { t: 90 }, true], ['t == 2d', { t: 172_800 }, true], ['t == 1.5s', { t: 1.5 }, true], ['t < -1s', { t: -2 }, true],
    ['m == 100MiB', { m: 104_857_600 }, true], ['m == 1.5GB', { m: 1_500_000_000 }, true], ['m == 512KiB', { m: 524_288 }, true],
    ['m == 10B', { m: 10 }, true], ['m > 1GiB', { m: 2 ** 30 + 1 }, true], ['uptime > 1h && rss < 2GiB', { uptime: 7200, rss: 2 ** 30 }, true],
    ['t in [1m, 2m]', { t: 120 }, true],
  ]);
});

test('a number with an unknown suffix is a syntax error', () => {
  for (const bad of ['x > 5x', 'x > 1mib', 'x > 1h30', 'x > 1.5.3', 'x > 5constructor', 'x > 1e3s', 'x > 5and y']) {
    assert.throws(() => compile(bad), (err: unknown) => isOpsError(err, 'OPS_ERR_EXPR_SYNTAX'), bad);
  }
  assertError('x > 12xyz', 'OPS_ERR_EXPR_SYNTAX', [
    'unknown unit "xyz" in "12xyz" at column 7',
    '  x > 12xyz',
    '        ^',
    'units: ns us µs ms s m h d w (a duration, in seconds); B KB MB GB TB PB KiB MiB GiB TiB PiB (a size, in bytes)',
  ]);
});

test('regex match: search, numbers as text, !~ is exactly the negation', () => {
  table([
    ["path ~ '^/api/'", { path: '/api/v1' }, true], ["path ~ '^/api/'", { path: '/x/api/' }, false], ["path ~ 'api'", { path: '/x/api/' }, true],
    [String.raw`path ~ "\d+$"`, { path: 'job-42' }, true], [String.raw`path ~ '\.log$'`, { path: 'a.log' }, true],
    [String.raw`path ~ '\.log$'`, { path: 'alog' }, false], ["msg ~ '(?i:error)'", { msg: 'ERROR: x' }, true],
    ["pid ~ '^1'", { pid: 123 }, true], ["pid ~ '^1'", { pid: 23 }, false],
    ["x ~ ''", {}, false], ["x !~ ''", {}, true], ["x ~ 'true'", { x: true }, false], ["x ~ 'o'", { x: { o: 1 } }, false],
    ["path !~ '^/api/'", { path: '/api/v1' }, false], ["path !~ '^/api/'", { path: '/health' }, true],
  ]);
  const e = compile("path ~ 'a' && path ~ 'a'");
  for (let i = 0; i < 3; i++) assert.equal(e.test({ path: 'xa' }), true); // no lastIndex state between calls
});

test('an invalid regex is a syntax error pointing at the string', () => {
  assertError("name ~ '(' && x", 'OPS_ERR_EXPR_SYNTAX', [
    'invalid regular expression (Unterminated group) at column 8',
    "  name ~ '(' && x",
    '         ^',
  ]);
  assertError('name ~ x', 'OPS_ERR_EXPR_SYNTAX', ['expected a string (the regular expression) after "~", got "x" at column 8', '  name ~ x', '         ^']);
});

test('in and not in', () => {
  table([
    ["user in ['root', 'daemon']", { user: 'root' }, true], ["user in ['root', 'daemon']", { user: 'bob' }, false],
    ["user not in ['root', 'daemon']", { user: 'bob' }, true], ["user not in ['root']", { user: 'root' }, false],
    ['code in [200, 204]', { code: 204 }, true], ['code in [200, 204]', { code: '204' }, true], ['code in [200, 204]', { code: '204x' }, false],
    ["code in ['200']", { code: 200 }, true], ["code in ['200']", { code: '200.0' }, false], ['code in [200]', { code: '200.0' }, true],
    ['x in [true, null]', { x: null }, true], ['x in [true, null]', { x: 1 }, false], ['x in []', { x: 1 }, false],
    ['x in [1, 2,]', { x: 2 }, true], ['x in [-1, 1h]', { x: -1 }, true], ['x in [1]', {}, false], ['x not in [1]', {}, true],
    ['x in [0]', { x: -0 }, true], ['x in [0]', { x: NaN }, false], ['x in [1]', { x: [1] }, false],
    ['(x in [1]) == true', { x: 1 }, true],
  ]);
  const long = (v: unknown): boolean => run(`x in [1, 2, 3, 4, 5, 6, 7, 8, 9, 'ten', '11', true, null, -0]`, { x: v }); // a Set, not a chain
  for (const yes of [9, '9', '9.0', 'ten', 11, '11', true, null, 0, -0, '-0']) assert.equal(long(yes), true, inspect(yes));
  for (const no of [10, '10', 'TEN', '11.0', false, undefined, NaN, 'x', [1], '']) assert.equal(long(no), false, inspect(no));
});

test('a missing field makes every comparison false except != and not in', () => {
  for (const op of ['==', '<', '<=', '>', '>=']) {
    for (const lit of ['1', "'a'", '"1"']) assert.equal(run(`nope ${op} ${lit}`, { other: 1 }), false, `${op} ${lit}`);
  }
  table([['nope != 1', {}, true], ["nope ~ 'x'", {}, false], ['nope.deeper.still == 1', { nope: 5 }, false], ['nope == other', {}, false]]);
});

test('numeric strings meet numbers numerically; two strings compare as strings', () => {
  table([
    ['status == 200', { status: '200' }, true], ['status != 200', { status: '200' }, false], ['status == 200', { status: '200.0' }, true],
    ['status == 200', { status: ' 200' }, false], ['status == 16', { status: '0x10' }, false], ['status == 0', { status: '' }, false],
    ['status >= 500', { status: '503' }, true], ['status >= 500', { status: '404' }, false], ['status < 1e3', { status: '999' }, true],
    ['latency > 0.25', { latency: '1.5e-1' }, false], ['x < 10', { x: 'abc' }, false], ['x > 10', { x: 'abc' }, false],
    ["status == '200'", { status: 200 }, true], ["status == '200'", { status: '200.0' }, false], ["status > '50'", { status: 100 }, true],
    ["status > '50'", { status: '100' }, false], // lexical: "100" < "50"
    ['a == b', { a: 1, b: '1' }, true], ['a < b', { a: 9, b: '10' }, true], ['a < b', { a: '9', b: '10' }, false],
    ['x == 1', { x: true }, false], ['x == 1', { x: [1] }, false], ['x == 1', { x: 1n }, false],
  ]);
});

test('dotted paths read nested properties; inherited Object members are not fields', () => {
  const r = { labels: { unit: 'nginx.service', 'in': 1 }, body: { status: 500 } };
  table([
    ["labels.unit == 'nginx.service'", r, true], ['body.status >= 500', r, true], ['labels.in == 1', r, true],
    ['labels.unit.length > 0', r, true], ['body.missing.x == 1', r, false],
    ['constructor', {}, false], ['toString', {}, false], ['__proto__', {}, false], ['labels.hasOwnProperty', r, false],
    ['constructor == 1', { constructor: 1 }, true], ['__proto__ == 1', JSON.parse('{"__proto__": 1}') as unknown, true],
  ]);
  class Proc {
    get cpu(): number { return 75; }
  }
  assert.equal(run('cpu > 50', new Proc()), true); // getters on the prototype are read
});

test('test never throws on odd records', () => {
  const e = compile("a > 1 || a == 'x' || a ~ 'x' || a in [1] || a.b.c || !a || constructor.name == 'Object' || a == b || a < b");
  const bare = Object.create(null) as object;
  const records: unknown[] = [null, undefined, 0, 1, '', 'str', true, Symbol('s'), 10n, [], [1], () => 1, bare, { a: Symbol('x') }, { a: bare }, { a: 10n, b: 1 }, new Map()];
  for (const r of records) {
    assert.equal(typeof e.test(r), 'boolean');
  }
});

test('fields lists distinct dotted paths in order of first use', () => {
  assert.deepEqual(compile("cpu > 5 && labels.unit == 'x' || cpu < 2 || mem").fields, ['cpu', 'labels.unit', 'mem']);
  assert.deepEqual(compile('1 == 1').fields, []);
  const e = compile('a');
  assert.equal(e.source, 'a');
  assert.ok(Object.isFrozen(e) && Object.isFrozen(e.fields));
});

test('known fields: unknown ones are OPS_ERR_EXPR_FIELD with a caret and the list', () => {
  const fields = ['cpu', 'mem', 'user', 'labels.*'];
  assert.deepEqual(compile("cpu > 1 && labels.unit == 'x' && labels.a.b && labels", { fields }).fields, ['cpu', 'labels.unit', 'labels.a.b', 'labels']);
  assertError('mem > 1 && cpuu > 50', 'OPS_ERR_EXPR_FIELD', [
    'unknown field "cpuu" at column 12',
    '  mem > 1 && cpuu > 50',
    '             ^',
    'did you mean "cpu"? known fields: cpu, mem, user, labels.*',
  ], { fields });
  assertError('labelsx.a', 'OPS_ERR_EXPR_FIELD', ['unknown field "labelsx.a" at column 1', '  labelsx.a', '  ^', 'did you mean "labels.a"? known fields: cpu, mem, user, labels.*'], { fields });
  assertError('zzz', 'OPS_ERR_EXPR_FIELD', ['unknown field "zzz" at column 1', '  zzz', '  ^', 'known fields: cpu, mem, user, labels.*'], { fields });
  assertError('x', 'OPS_ERR_EXPR_FIELD', ['unknown field "x" at column 1', '  x', '  ^', 'known fields: (none)'], { fields: [] });
  assert.throws(() => compile('cpu.x', { fields }), (err: unknown) => isOpsError(err, 'OPS_ERR_EXPR_FIELD') && err.details.field === 'cpu.x');
});

test('syntax errors: message, column and caret', () => {
  assertError('cpu > 50 && ', 'OPS_ERR_EXPR_SYNTAX', ['expected a value after "&&" at column 13', '  cpu > 50 && ', '              ^']);
  assertError('', 'OPS_ERR_EXPR_SYNTAX', ['empty expression at column 1', '  ', '  ^']);
  assertError('  \t ', 'OPS_ERR_EXPR_SYNTAX', ['empty expression at column 1', '    \t ', '  ^']);
  assertError('cpu 50', 'OPS_ERR_EXPR_SYNTAX', ['expected an operator, got "50" at column 5', '  cpu 50', '      ^']);
  assertError('(a > 1', 'OPS_ERR_EXPR_SYNTAX', ['expected ")" at column 7', '  (a > 1', '        ^', 'to close the "(" at column 1']);
  assertError('a > 1)', 'OPS_ERR_EXPR_SYNTAX', ['unmatched ")" at column 6', '  a > 1)', '       ^']);
  assertError("user = 'root'", 'OPS_ERR_EXPR_SYNTAX', ['"=" is not an operator at column 6', "  user = 'root'", '       ^', 'use "=="']);
  assertError('a & b', 'OPS_ERR_EXPR_SYNTAX', ['"&" is not an operator at column 3', '  a & b', '    ^', 'use "&&"']);
  assertError('a > 1 && b @ 2', 'OPS_ERR_EXPR_SYNTAX', ['unexpected character "@" at column 12', '  a > 1 && b @ 2', '             ^']);
  assertError("a == 'open", 'OPS_ERR_EXPR_SYNTAX', ['unterminated string at column 6', "  a == 'open", '       ^']);
  assertError('a < b < c', 'OPS_ERR_EXPR_SYNTAX', ['comparisons cannot be chained at column 7', '  a < b < c', '        ^', 'join them with "&&": a < b && b < c']);
  assertError('!a == b', 'OPS_ERR_EXPR_SYNTAX', [
    'ambiguous "!" before "==" at column 1', '  !a == b', '  ^', 'write !(… == …) to negate the comparison, or (!…) == … to compare the negation',
  ]);
  assertError('not a in [1]', 'OPS_ERR_EXPR_SYNTAX', [
    'ambiguous "not" before "in" at column 1', '  not a in [1]', '  ^', 'write not (… in …) to negate the comparison, or (not …) in … to compare the negation',
  ]);
  assertError('a in 1', 'OPS_ERR_EXPR_SYNTAX', ['expected "[" after "in", got "1" at column 6', '  a in 1', '       ^']);
  assertError('a in [1 2]', 'OPS_ERR_EXPR_SYNTAX', ['expected "," or "]" in the list, got "2" at column 9', '  a in [1 2]', '          ^']);
  assertError('a in [b]', 'OPS_ERR_EXPR_SYNTAX', [
    'expected a literal in the list (a number, string, true, false or null), got "b" at column 7', '  a in [b]', '        ^',
  ]);
  assertError('a not [1]', 'OPS_ERR_EXPR_SYNTAX', ['expected "in" after "not" at column 7', '  a not [1]', '        ^']);
  assertError('a > -b', 'OPS_ERR_EXPR_SYNTAX', ['expected a number after "-", got "b" at column 6', '  a > -b', '       ^']);
  assertError('a < true', 'OPS_ERR_EXPR_SYNTAX', ['"<" compares numbers or strings, not true/false at column 3', '  a < true', '    ^']);
  assertError('labels. == 1', 'OPS_ERR_EXPR_SYNTAX', ['expected a field name after "." at column 8', '  labels. == 1', '         ^']);
  assertError('a == in', 'OPS_ERR_EXPR_SYNTAX', ['expected a value after "==", got "in" at column 6', '  a == in', '       ^']);
  assertError('&& a', 'OPS_ERR_EXPR_SYNTAX', ['expected a value, got "&&" at column 1', '  && a', '  ^']);
  assertError('a >\u00a01', 'OPS_ERR_EXPR_SYNTAX', ['unexpected space character U+00A0 at column 4', '  a >\u00a01', '     ^', 'use plain spaces']);
});

test('error columns count code points, keep tabs and show only the failing line', () => {
  assertError("s == '𝄞' &&", 'OPS_ERR_EXPR_SYNTAX', ['expected a value after "&&" at column 12', "  s == '𝄞' &&", '             ^']);
  assertError('a ==\t@', 'OPS_ERR_EXPR_SYNTAX', ['unexpected character "@" at column 6', '  a ==\t@', '      \t^']);
  assertError('a > 1 &&\n  b >', 'OPS_ERR_EXPR_SYNTAX', ['expected a value after ">" at line 2, column 6', '    b >', '       ^']);
  assert.throws(
    () => compile('a > 1 &&\n  b >'),
    (err: unknown) => isOpsError(err) && err.details.line === 2 && err.details.column === 6 && err.details.expected === 'a value',
  );
});

test('nesting deeper than the limit is a syntax error, not a stack overflow', () => {
  assert.equal(run(`${'('.repeat(maxDepth)}a${')'.repeat(maxDepth)}`, { a: 1 }), true);
  for (const deep of ['('.repeat(100_000), `${'!'.repeat(100_000)}a`, `${'(!'.repeat(maxDepth)}a`, `a == ${'('.repeat(maxDepth + 1)}`]) {
    assert.throws(() => compile(deep), (err: unknown) => isOpsError(err, 'OPS_ERR_EXPR_SYNTAX') && /nested too deeply/.test(err.message));
  }
  const long = Array.from({ length: 20_000 }, (_, i) => `a == ${i}`).join(' || '); // flat chains do not nest
  assert.equal(run(long, { a: 19_999 }), true);
});

test('user text never becomes code', () => {
  const g = globalThis as { pwned?: number };
  const attacks = [
    '"]); process.exit(1); //',
    "'); globalThis.pwned = 1; ('",
    '"; globalThis.pwned = 1; "',
    '\\"; globalThis.pwned = 1; //',
    '\u2028globalThis.pwned = 1\u2029',
    '${globalThis.pwned = 1}',
    '</script><script>globalThis.pwned = 1</script>',
  ];
  for (const text of attacks) {
    const lit = `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    const re = `'${text.replace(/[^A-Za-z0-9 ]/g, '.')}'`;
    for (const source of [`a == ${lit}`, `a != ${lit}`, `a > ${lit}`, `a ~ ${re}`, `a in [${lit}]`, `${lit} == a`, lit]) {
      const e = compile(source);
      e.test({ a: text });
      e.test({});
    }
    assert.equal(compile(`a == ${lit}`).test({ a: text }), true, text);
  }
  assert.equal(g.pwned, undefined);
  assert.throws(() => compile('a["x"]'), (err: unknown) => isOpsError(err, 'OPS_ERR_EXPR_SYNTAX'));
  assert.throws(() => compile('a.b"); process.exit(1); //'), (err: unknown) => isOpsError(err, 'OPS_ERR_EXPR_SYNTAX'));
});

test('property: any string round-trips through a string literal', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const lit = `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      return compile(`a == ${lit}`).test({ a: s }) && !compile(`a != ${lit}`).test({ a: s });
    }),
  );
});

// ---- property: every input compiles or fails with a coded error ----

const tokens = [
  'cpu', 'mem', 'labels.unit', 'a.b', 'x', '_y1', 'true', 'false', 'null', 'and', 'or', 'not', 'in', '50', '0.5', '1e3', '-', '90s',
  '1h30m', '100MiB', '1.5GB', '5x', '1.', "'root'", '"a\\"b"', "'\\d+'", "'('", "'", '"', '\\', '==', '!=', '<', '<=', '>', '>=',
  '~', '!~', '&&', '||', '!', '(', ')', '[', ']', ',', '=', '&', '|', '.', '@', '\n', '\t', ' ', 'µs', 'constructor', '__proto__',
];
const tokenSoup = fc.array(fc.tuple(fc.constantFrom(...tokens), fc.constantFrom('', ' ', ' ')), { maxLength: 30 }).map((parts) => parts.map(([t, sp]) => t + sp).join(''));

function compilesOrFailsCleanly(source: string, options?: CompileOptions): void {
  try {
    const e = compile(source, options);
    for (const r of [null, 1, {}, { cpu: 60, mem: '5', x: 'root', labels: { unit: 'a' }, a: { b: true } }]) assert.equal(typeof e.test(r), 'boolean');
  } catch (err) {
    const allowed = options?.fields === undefined ? ['OPS_ERR_EXPR_SYNTAX'] : ['OPS_ERR_EXPR_SYNTAX', 'OPS_ERR_EXPR_FIELD'];
    if (!isOpsError(err) || !allowed.includes(err.code)) throw err;
    assert.equal(typeof err.details.column, 'number');
    assert.match(err.message, /^[^\n]+ at (line \d+, )?column \d+\n {2}[^\n]*\n {2}[ \t]*\^/);
  }
}

test('property: arbitrary strings compile or throw OPS_ERR_EXPR_SYNTAX', () => {
  fc.assert(fc.property(fc.string(), (s) => compilesOrFailsCleanly(s)), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => compilesOrFailsCleanly(s)), { numRuns: 1000 });
});

test('property: token soup compiles or throws a coded error', () => {
  fc.assert(fc.property(tokenSoup, (s) => compilesOrFailsCleanly(s)), { numRuns: 5000 });
  fc.assert(fc.property(tokenSoup, (s) => compilesOrFailsCleanly(s, { fields: ['cpu', 'x', 'labels.*'] })), { numRuns: 2000 });
});

// ---- property: compiled code agrees with a reference evaluator ----

type Lit = { kind: 'lit'; text: string; value: number | string };
type Value = { kind: 'field'; name: string } | Lit;
type Bool =
  | { kind: 'cmp'; op: string; left: Value; right: Value }
  | { kind: 'eqb'; op: '==' | '!='; left: Bool; right: Bool }
  | { kind: 'truthy'; value: Value }
  | { kind: 'not'; operand: Bool }
  | { kind: 'and' | 'or'; left: Bool; right: Bool; word: boolean }
  | { kind: 'in'; negate: boolean; left: Value; list: Lit[] }
  | { kind: 'match'; negate: boolean; left: Value; pattern: string };

const fieldNames = ['a', 'b', 'c'];
const numberLiteral = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map((n) => ({ kind: 'lit' as const, text: String(n), value: n })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ kind: 'lit' as const, text: String(n), value: n === 0 ? 0 : n })),
  fc.constantFrom<[string, number]>(['90s', 90], ['1h30m', 5400], ['300ms', 0.3], ['2KiB', 2048], ['1.5GB', 1.5e9]).map(([text, value]) => ({ kind: 'lit' as const, text, value })),
);
const stringLiteral = fc.constantFrom('1', '5', '-2', '2.50', 'x', '', '1e1').map((s) => ({ kind: 'lit' as const, text: `'${s}'`, value: s }));
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { arbitrary: fc.constantFrom(...fieldNames).map((name) => ({ kind: 'field' as const, name })), weight: 3 },
  { arbitrary: numberLiteral, weight: 2 },
  { arbitrary: stringLiteral, weight: 1 },
);
const { bool: boolArb } = fc.letrec<{ bool: Bool }>((tie) => ({
  bool: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'bool' },
    fc.record({ kind: fc.constant('cmp' as const), op: fc.constantFrom('==', '!=', '<', '<=', '>', '>='), left: valueArb, right: valueArb }),
    fc.record({ kind: fc.constant('truthy' as const), value: valueArb }),
    fc.record({ kind: fc.constant('in' as const), negate: fc.boolean(), left: valueArb, list: fc.array(fc.oneof(numberLiteral, stringLiteral), { maxLength: 12 }) }),
    fc.record({ kind: fc.constant('match' as const), negate: fc.boolean(), left: valueArb, pattern: fc.constantFrom('^1', '5$', '\\.', '^-', '') }),
    fc.record({ kind: fc.constant('not' as const), operand: tie('bool') }),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('bool'), right: tie('bool'), word: fc.boolean() }),
    fc.record({ kind: fc.constant('eqb' as const), op: fc.constantFrom('==' as const, '!=' as const), left: tie('bool'), right: tie('bool') }),
  ),
}));
const fieldValue = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.double(),
  fc.constantFrom(0, -0, 1, 5, 90, 5400, 0.3, 2048, 1.5e9, NaN, Infinity),
  fc.constantFrom('1', '5', '-2', '2.5', '2.50', 'x', '', '1e1', '10', ' 1', '0x1'),
  fc.constantFrom(undefined, null, true, false),
);
const recordArb = fc.record({ a: fieldValue, b: fieldValue, c: fieldValue }, { requiredKeys: [] });

function print(n: Bool): string {
  const v = (x: Value): string => (x.kind === 'field' ? x.name : x.text);
  switch (n.kind) {
    case 'cmp': return `${v(n.left)} ${n.op} ${v(n.right)}`;
    case 'eqb': return `(${print(n.left)}) ${n.op} (${print(n.right)})`;
    case 'truthy': return v(n.value);
    case 'not': return `!(${print(n.operand)})`;
    case 'and': return `(${print(n.left)} ${n.word ? 'and' : '&&'} ${print(n.right)})`;
    case 'or': return `(${print(n.left)} ${n.word ? 'or' : '||'} ${print(n.right)})`;
    case 'in': return `${v(n.left)} ${n.negate ? 'not in' : 'in'} [${n.list.map(v).join(', ')}]`;
    case 'match': return `${v(n.left)} ${n.negate ? '!~' : '~'} '${n.pattern.replace(/\\/g, '\\\\')}'`;
  }
}

// The documented semantics, written the obvious way.
const decimalText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const asNumber = (s: string): number => (decimalText.test(s) ? Number(s) : NaN);
function refEquals(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'number' && typeof b === 'string') return a === asNumber(b);
  if (typeof a === 'string' && typeof b === 'number') return asNumber(a) === b;
  return a === b;
}
function refOrder(op: string, a: unknown, b: unknown): boolean {
  let x: number | string;
  let y: number | string;
  if (typeof a === 'string' && typeof b === 'string') [x, y] = [a, b];
  else if ((typeof a === 'number' || typeof a === 'string') && (typeof b === 'number' || typeof b === 'string')) {
    [x, y] = [typeof a === 'number' ? a : asNumber(a), typeof b === 'number' ? b : asNumber(b)];
  } else return false;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}
function refEval(n: Bool, r: Record<string, unknown>): boolean {
  const v = (x: Value): unknown => (x.kind === 'field' ? (Object.hasOwn(r, x.name) ? r[x.name] : undefined) : x.value);
  switch (n.kind) {
    case 'cmp': {
      const [a, b] = [v(n.left), v(n.right)];
      return n.op === '==' ? refEquals(a, b) : n.op === '!=' ? !refEquals(a, b) : refOrder(n.op, a, b);
    }
    case 'eqb': { // a parenthesized bare value is that value, not its truthiness
      const side = (b: Bool): unknown => (b.kind === 'truthy' ? v(b.value) : refEval(b, r));
      return refEquals(side(n.left), side(n.right)) === (n.op === '==');
    }
    case 'truthy': return Boolean(v(n.value));
    case 'not': return !refEval(n.operand, r);
    case 'and': return refEval(n.left, r) && refEval(n.right, r);
    case 'or': return refEval(n.left, r) || refEval(n.right, r);
    case 'in': return n.list.some((x) => refEquals(v(n.left), x.value)) !== n.negate;
    case 'match': {
      const a = v(n.left);
      const hit = (typeof a === 'string' || typeof a === 'number') && new RegExp(n.pattern, 'u').test(String(a));
      return hit !== n.negate;
    }
  }
}

test('property: decimal() accepts exactly plain decimal strings', () => {
  const chars = fc.constantFrom(...'0123456789+-.eExXbBoO In\t'.split(''));
  const check = (s: string): boolean => Object.is(decimal(s), asNumber(s));
  fc.assert(fc.property(fc.string({ unit: chars, maxLength: 8 }), check), { numRuns: 20_000 });
  fc.assert(fc.property(fc.string(), check));
  for (const s of ['Infinity', '-Infinity', '0x10', '0b1', '0o7', ' 1', '1 ', '', '.', '1.', '.5', '-0', '+5', '1e5', '1E-5', '00012']) assert.ok(check(s), s);
});

test('property: compiled expressions agree with the reference evaluator', () => {
  fc.assert(
    fc.property(boolArb, fc.array(recordArb, { minLength: 1, maxLength: 8 }), (ast, records) => {
      const e = compile(print(ast));
      for (const r of records) assert.equal(e.test(r), refEval(ast, r), `${print(ast)} on ${String(JSON.stringify(r))}`);
    }),
    { numRuns: 3000 },
  );
});

test('property: test never throws on arbitrary records', () => {
  const exprs = [
    "a > 1 && b == 'x' || !c", 'a.b.c <= 5 || a ~ "^x" || b in [1, "2", null]', 'a == b || a < b || a >= b', 'constructor || __proto__.x == 1 || a.length > 2',
    "a !~ '1' && b not in [true]", '(a > 1) == (b < 2)',
  ].map((s) => compile(s));
  const records = fc.oneof(
    fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withNullPrototype: true, withObjectString: true, withSet: true, withSparseArray: true, withTypedArray: true }),
    fc.record({ a: fc.anything({ withNullPrototype: true, withBoxedValues: true, withBigInt: true }), b: fc.anything(), c: fc.anything() }),
  );
  fc.assert(fc.property(records, (r) => exprs.every((e) => typeof e.test(r) === 'boolean')), { numRuns: 3000 });
  fc.assert(fc.property(boolArb, fc.anything({ withNullPrototype: true, withBigInt: true }), (ast, r) => typeof compile(print(ast)).test(r) === 'boolean'));
});
