import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpsError, type OpsError } from '../core/errors.ts';
import { loadServiceConfig } from './service-config.ts';

const data = (name: string): string => new URL(`./testdata/${name}`, import.meta.url).pathname;

function expectError(file: string, message: RegExp, code = 'OPS_ERR_CONFIG_INVALID'): OpsError {
  try {
    loadServiceConfig(data(file));
  } catch (err) {
    assert.ok(isOpsError(err), `expected an OpsError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`${file}: expected an error`);
}

test('the documented example loads as written, with defaults filled in', () => {
  const config = loadServiceConfig(data('probes.toml'));
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 9115 });
  assert.equal(config.concurrency, 100);
  assert.equal(config.timeout_offset, 500);
  assert.equal(config.modules.http_2xx?.timeout, 5000);
  assert.equal(config.modules.http_2xx?.conditions[0]?.source, 'status >= 200 && status < 300');
  assert.equal(config.modules.tcp_connect?.timeout, 3000);
  assert.ok(config.modules.icmp && config.modules.grpc, 'default modules are present');
  assert.deepEqual(config.targets, [{
    name: 'api', target: 'http://127.0.0.1:8080/healthz', module: 'http_2xx', interval: 15_000, timeout: 5000, jitter: 0, labels: { team: 'core' },
  }]);
  assert.equal(Array.isArray((config.alerts as Record<string, unknown>).webhook), true);
});

test('--listen wins over the file', () => {
  assert.deepEqual(loadServiceConfig(data('probes.toml'), { listen: '127.0.0.1:0' }).listen, { host: '127.0.0.1', port: 0 });
});

test('a target with an undefined module names the targets entry, its line and the modules there are', () => {
  const err = expectError('unknown-module.toml', /unknown-module\.toml:13: key "targets\.1\.module": targets entry 2 \("db"\) uses module "tcp_conect", which is not defined \(modules: .*tcp_connect/);
  assert.equal(err.details.line, 13);
});

test('a duplicate target name points at the second one', () => {
  expectError('duplicate-name.toml', /duplicate-name\.toml:8: key "targets\.1\.name": duplicate target name "api" \(also targets entry 1\)/);
});

test("a module's timeout longer than the interval is an error on the interval", () => {
  expectError('timeout-over-interval.toml', /timeout-over-interval\.toml:10: key "targets\.0\.interval": timeout 10000ms \(from module "slow"\) is longer than the interval 5000ms/);
});

test('label names are checked against Prometheus rules and the reserved ones', () => {
  const err = expectError('bad-label.toml', /bad-label\.toml:6: key "targets\.0\.labels\.team-name": "team-name" is not a Prometheus label name/);
  assert.match(err.message, /bad-label\.toml:12: key "targets\.1\.labels\.instance": "instance" is reserved/);
});

test('jitter is a fraction between 0 and 1 or a duration', () => {
  expectError('bad-jitter.toml', /bad-jitter\.toml:7: key "targets\.0\.jitter": expected a fraction of the interval between 0 and 1/);
});

test('an unknown key in a target is named with its line', () => {
  expectError('unknown-key.toml', /unknown-key\.toml:6: key "targets\.0\.intreval": unknown key/);
});

test('an unknown prober and a bad condition are config errors', () => {
  expectError('bad-module.toml', /bad-module\.toml:3: key "modules\.web\.prober": /);
  expectError('bad-module.toml', /bad-module\.toml:7: key "modules\.api\.conditions\.0": /);
});
