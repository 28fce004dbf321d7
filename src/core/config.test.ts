import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { duration, listenAddress, loadConfig, locateKeys, size, validate } from './config.ts';
import { isOpsError, type OpsError } from './errors.ts';

const data = (name: string): string => new URL(`./testdata/${name}`, import.meta.url).pathname;

const schema = z.strictObject({
  listen: listenAddress().prefault('127.0.0.1:9110'),
  oom: z.strictObject({ enabled: z.boolean().default(true), interval: duration().prefault('1s') }).prefault({}),
  targets: z.array(z.strictObject({ name: z.string(), timeout: duration().prefault('5s') })).default([]),
  limit: size().prefault('1MiB'),
});

function expectError(fn: () => unknown, code: string, message: RegExp): OpsError {
  try {
    fn();
  } catch (err) {
    assert.ok(isOpsError(err), `expected an OpsError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return err;
  }
  assert.fail('expected an error');
}

test('defaults fill an empty config', () => {
  const cfg = loadConfig({ schema });
  assert.deepEqual(cfg, { listen: { host: '127.0.0.1', port: 9110 }, oom: { enabled: true, interval: 1000 }, targets: [], limit: 1048576 });
});

test('an unknown key names the file, the line and the key', () => {
  const err = expectError(() => loadConfig({ schema, file: data('bad-key.toml') }), 'OPS_ERR_CONFIG_INVALID',
    /bad-key\.toml:6: key "oom\.intervall": unknown key/);
  assert.equal(err.details.line, 6);
  assert.equal(err.details.key, 'oom.intervall');
});

test('a bad value inside an array of tables points at its own line', () => {
  expectError(() => loadConfig({ schema, file: data('bad-value.toml') }), 'OPS_ERR_CONFIG_INVALID',
    /bad-value\.toml:9: key "targets\.1\.timeout": expected a duration like "5s" or "1m30s", got "five seconds"/);
});

test('a TOML syntax error names file, line and column', () => {
  expectError(() => loadConfig({ schema, file: data('bad-syntax.toml') }), 'OPS_ERR_CONFIG_PARSE', /bad-syntax\.toml:2:\d+: /);
});

test('a missing file is a read error', () => {
  expectError(() => loadConfig({ schema, file: data('nope.toml') }), 'OPS_ERR_CONFIG_READ', /nope\.toml: cannot read config \(ENOENT\)/);
});

test('layers: file < env < flags, and errors name the layer', () => {
  const file = data('layers.toml');
  const env = { OPSCTL_LISTEN: '127.0.0.1:1', OPSCTL_OOM__INTERVAL: '"250ms"', OPSCTL_OOM__ENABLED: 'false', UNRELATED: 'x' };
  assert.equal(loadConfig({ schema, file }).oom.interval, 5000);
  const fromEnv = loadConfig({ schema, file, env });
  assert.deepEqual(fromEnv.listen, { host: '127.0.0.1', port: 1 });
  assert.equal(fromEnv.oom.interval, 250);
  assert.equal(fromEnv.oom.enabled, false);
  const fromFlag = loadConfig({ schema, env: { OPSCTL_LISTEN: '127.0.0.1:1' }, flags: { listen: ':2', 'oom.enabled': undefined } });
  assert.deepEqual(fromFlag.listen, { host: '0.0.0.0', port: 2 });
  expectError(() => loadConfig({ schema, env: { OPSCTL_OOM__ENABLED: 'yes' } }), 'OPS_ERR_CONFIG_INVALID',
    /environment OPSCTL_OOM__ENABLED: key "oom\.enabled": .*boolean/);
  expectError(() => loadConfig({ schema, flags: { listen: 'nowhere' }, flagNames: { listen: '--listen' } }), 'OPS_ERR_CONFIG_INVALID',
    /flag --listen: key "listen": expected "host:port"/);
});

test('validate reports every problem, one per line', () => {
  const err = expectError(() => validate(schema, { listen: 5, extra: 1 }), 'OPS_ERR_CONFIG_INVALID', /key "listen"/);
  assert.match(err.message, /key "extra": unknown key/);
  assert.equal(err.message.split('\n').length, 2);
});

test('locateKeys maps dotted paths to lines', () => {
  const lines = locateKeys('a = 1\n[b]\nc = 2\n"d.e" = 3\n[[t]]\nx = 1\n[[t]]\nx = 2\n[t.labels]\nteam = "core"\ns = """\nk = 1\n"""\nz = 1\n');
  assert.equal(lines.get('a'), 1);
  assert.equal(lines.get('b'), 2);
  assert.equal(lines.get('b.c'), 3);
  assert.equal(lines.get('b.d.e'), 4);
  assert.equal(lines.get('t.0.x'), 6);
  assert.equal(lines.get('t.1.x'), 8);
  assert.equal(lines.get('t.1.labels.team'), 10);
  assert.equal(lines.get('t.1.labels.k'), undefined, 'keys inside multi-line strings are not keys');
  assert.equal(lines.get('t.1.labels.z'), 14);
});
