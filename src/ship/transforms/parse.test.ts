import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig } from '../../core/config.ts';
import { OpsError } from '../../core/errors.ts';
import { entry, metricValue, testContext, type TestContext } from '../testing.ts';
import type { LogEntry, Transform } from '../types.ts';
import { parse } from './parse.ts';

const nginxLine = '2001:db8::1 - - [22/Nov/2026:10:00:00 +0100] "GET /health HTTP/1.1" 503 12 "-" "kube-probe/1.31"';

function make(config: Record<string, unknown>, ctx: TestContext = testContext('p')): { t: Transform; ctx: TestContext } {
  return { t: parse.create(parse.schema.parse({ type: 'parse', inputs: ['files'], ...config }), ctx), ctx };
}

const run = async (t: Transform, entries: LogEntry[]): Promise<LogEntry[]> => t.process(entries);
const errors = (ctx: TestContext, error: string): Promise<number | undefined> => metricValue(ctx.registry, 'opsctl_ship_errors_total', { component: ctx.name, error });

test('nginx lines get fields, the time as RFC 3339 UTC and a level; the input entry is not changed', async () => {
  const { t } = make({ format: 'nginx' });
  const input = entry(nginxLine, { fields: { host: 'web01' } });
  const [out] = await run(t, [input]);
  assert.ok(out);
  assert.equal(out.timestamp, '2026-11-22T09:00:00.000Z');
  assert.equal(out.level, 'error');
  assert.equal(out.message, nginxLine);
  assert.equal(out.fields.host, 'web01');
  assert.equal(out.fields.status, 503);
  assert.equal(out.fields.http_user_agent, 'kube-probe/1.31');
  assert.deepEqual(input.fields, { host: 'web01' });
  assert.equal(input.level, 'unknown');
});

test('json: message replaces the line; target nests the fields', async () => {
  const { t } = make({ format: 'json', target: 'app' });
  const [out] = await run(t, [entry('{"ts":1795341600.5,"lvl":"W","msg":"slow query","ms":812}', { fields: { host: 'db1' } })]);
  assert.deepEqual(out?.fields, { host: 'db1', app: { ts: 1795341600.5, lvl: 'W', ms: 812 } });
  assert.equal(out?.message, 'slow query');
  assert.equal(out?.level, 'warn');
  assert.equal(out?.timestamp, '2026-11-22T10:00:00.500Z');
});

test('field, timestamp_field and a strftime timestamp_format', async () => {
  const { t } = make({ format: 'logfmt', field: 'fields.raw', timestamp_field: 'at', timestamp_format: '%Y-%m-%d %H:%M:%S,%f %z', level_field: 'sev' });
  const [out] = await run(t, [entry('line', { fields: { raw: 'at="2026-11-22 10:00:00,250 +0000" sev=crit message=boom' } })]);
  assert.equal(out?.timestamp, '2026-11-22T10:00:00.250Z');
  assert.equal(out?.level, 'fatal');
  assert.equal(out?.message, 'boom');
  assert.equal(out?.fields.raw, 'at="2026-11-22 10:00:00,250 +0000" sev=crit message=boom');
});

test('syslog: message, level and time come from the line', async () => {
  const { t } = make({ format: 'syslog' });
  const [a, b] = await run(t, [
    entry('<11>1 2026-11-22T10:00:00.123+02:00 web01 app 42 - [origin ip="192.0.2.1"] failed'),
    entry('<30>Nov 22 10:00:00 web01 systemd[1]: Started Session 7.'),
  ]);
  assert.deepEqual([a?.timestamp, a?.level, a?.message], ['2026-11-22T08:00:00.123Z', 'error', 'failed']);
  assert.deepEqual(a?.fields.structured_data, { origin: { ip: '192.0.2.1' } });
  assert.equal(b?.level, 'info');
  assert.equal(b?.message, 'Started Session 7.');
  assert.equal(b?.timestamp.slice(4), new Date(2026, 10, 22, 10).toISOString().slice(4));
});

test('a time that does not parse keeps the entry time and counts a timestamp error, not a parse failure', async () => {
  const { t, ctx } = make({ format: 'json' });
  const input = entry('{"time":"half past ten","msg":"x"}');
  const [out] = await run(t, [input, entry('{"time":"also bad"}')]);
  assert.equal(out?.timestamp, input.timestamp);
  assert.equal(out?.fields.parse_error, undefined);
  assert.equal(await errors(ctx, 'timestamp'), 2);
  assert.equal(await errors(ctx, 'parse'), undefined);
});

test('on_error pass keeps failed entries in place with fields.parse_error', async () => {
  const { t, ctx } = make({ format: 'json' });
  const out = await run(t, [entry('{"msg":"a"}'), entry('not json'), entry('[1]'), entry('{"msg":"b"}')]);
  assert.deepEqual(out.map((e) => [e.message, e.fields.parse_error]), [['a', undefined], ['not json', 'invalid JSON'], ['[1]', 'not a JSON object'], ['b', undefined]]);
  assert.equal(await errors(ctx, 'parse'), 2);
  assert.equal(ctx.deadLetter.written.length, 0);
});

test('on_error drop removes failed entries and counts them', async () => {
  const { t, ctx } = make({ format: 'nginx', on_error: 'drop' });
  const out = await run(t, [entry(nginxLine), entry('garbage'), entry('more garbage')]);
  assert.equal(out.length, 1);
  assert.equal(await errors(ctx, 'parse'), 2);
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'p', reason: 'parse_error' }), 2);
});

test('on_error dead_letter writes failed entries with their reason', async () => {
  const { t, ctx } = make({ format: 'logfmt', on_error: 'dead_letter' });
  const out = await run(t, [entry('a=1'), entry('a="open'), entry('=x'), entry('b="unclosed')]);
  assert.equal(out.length, 1);
  assert.deepEqual(ctx.deadLetter.written.map((w) => [w.entry.message, w.reason, w.component]),
    [['a="open', 'unterminated quote', 'p'], ['b="unclosed', 'unterminated quote', 'p'], ['=x', 'expected a key', 'p']]);
  assert.equal(await errors(ctx, 'parse'), 3);
  // They left the pipeline here: counted as dropped with that reason, so in = out + dropped holds.
  assert.equal(await metricValue(ctx.registry, 'opsctl_ship_events_dropped_total', { component: 'p', reason: 'dead_letter' }), 3);
});

test('a "__proto__" key in the data stays an own field when merged', async () => {
  const { t } = make({ format: 'json' });
  const [out] = await run(t, [entry('{"__proto__":{"polluted":true},"a":1}', { fields: { host: 'h' } })]);
  assert.equal(Object.getPrototypeOf(out?.fields), Object.prototype);
  assert.deepEqual(Object.keys(out?.fields ?? {}), ['host', '__proto__', 'a']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('a field that is not a string is a failure', async () => {
  const { t } = make({ format: 'json', field: 'fields.body' });
  const [out] = await run(t, [entry('x', { fields: { body: 42 } })]);
  assert.equal(out?.fields.parse_error, 'fields.body is not a string');
});

test('failures are warned at most once per 10 s, with the count since the last warning and an example', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  const { t: transform } = make({ format: 'json', on_error: 'drop' }, testContext('p', 'transform', { log }));
  await run(transform, [entry('bad 1'), entry('bad 2')]);
  assert.equal(lines.length, 1);
  assert.deepEqual([lines[0]?.msg, lines[0]?.failures, lines[0]?.reason, lines[0]?.example], ['parse failed', 2, 'invalid JSON', 'bad 1']);
  await run(transform, [entry('bad 3')]);
  t.mock.timers.tick(9_999);
  await run(transform, [entry('bad 4')]);
  assert.equal(lines.length, 1);
  t.mock.timers.tick(1);
  await run(transform, [entry('[5]')]);
  assert.equal(lines.length, 2);
  assert.deepEqual([lines[1]?.failures, lines[1]?.reason, lines[1]?.example], [3, 'not a JSON object', '[5]']);
  await run(transform, [entry('bad 6')]);
  await transform.close?.();
  assert.equal(lines.length, 3, 'close reports what is pending');
  assert.equal(lines[2]?.failures, 1);
});

test('config errors name the file, line and key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-parse-test-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const schema = z.strictObject({ transforms: z.record(z.string(), parse.schema) });
  const cases: Array<[string, RegExp]> = [
    ['format = "regex"\npattern = "(?<a>x"', /:5: key "transforms\.p\.pattern": invalid regular expression/],
    ['format = "regex"\npattern = "(\\\\d+)"', /:5: key "transforms\.p\.pattern": the pattern needs at least one named group/],
    ['format = "regex"', /:1: key "transforms\.p\.pattern": format "regex" needs a pattern/],
    ['format = "nginx"\npattern = "(?<a>x)"', /:5: key "transforms\.p\.pattern": pattern is only used with format "regex"/],
    ['format = "xml"', /:4: key "transforms\.p\.format"/],
    ['format = "json"\ntimestamp_format = "%Y-%Q"', /:5: key "transforms\.p\.timestamp_format": invalid timestamp_format: unknown directive "%Q"/],
    ['format = "json"\nfield = "fields.a.b"', /:5: key "transforms\.p\.field": expected "message" or "fields.<name>"/],
  ];
  for (const [body, expected] of cases) {
    const file = join(dir, 'ship.toml');
    writeFileSync(file, `[transforms.p]\ntype = "parse"\ninputs = ["files"]\n${body}\n`);
    assert.throws(() => loadConfig({ schema, file }), (err: unknown) => {
      assert.ok(err instanceof OpsError);
      assert.equal(err.code, 'OPS_ERR_CONFIG_INVALID');
      assert.match(err.message, expected);
      return true;
    }, body);
  }
  const ok = loadConfig({ schema, file: (writeFileSync(join(dir, 'ok.toml'), '[transforms.p]\ntype = "parse"\ninputs = ["f"]\nformat = "regex"\npattern = "^(?<w>\\\\w+)"\n'), join(dir, 'ok.toml')) });
  assert.deepEqual({ ...ok.transforms.p, pattern: String(ok.transforms.p?.pattern) }, {
    type: 'parse', inputs: ['f'], format: 'regex', pattern: '/^(?<w>\\w+)/', on_error: 'pass', field: 'message', timestamp_format: 'auto',
  });
});

test('the transform never throws and keeps or accounts for every entry', async () => {
  const transforms = ['json', 'logfmt', 'nginx', 'apache', 'syslog'].map((format) => make({ format }).t);
  await fc.assert(fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 20 }), async (lines) => {
    for (const t of transforms) {
      const out = await run(t, lines.map((l) => entry(l)));
      assert.equal(out.length, lines.length);
    }
  }), { numRuns: 300 });
});
