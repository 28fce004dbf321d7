import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../core/config.ts';
import { isOpsError } from '../core/errors.ts';
import { agentConfigSchema, agentOptions } from './config.ts';

test('defaults: off, loopback :9100, every default collector, no push', () => {
  const o = agentOptions(validate(agentConfigSchema, {}));
  assert.deepEqual(o.listen, { host: '127.0.0.1', port: 9100 });
  assert.ok(o.collectors.includes('cpu') && o.collectors.includes('filesystem'));
  assert.equal(o.push.remoteWrite, undefined);
  assert.equal(o.push.intervalMs, 15_000);
  assert.equal(validate(agentConfigSchema, {}).enabled, false);
});

test('disable removes collectors; push settings carry over', () => {
  const o = agentOptions(validate(agentConfigSchema, { disable: ['filesystem'], push: { remote_write: 'http://127.0.0.1:9090/api/v1/write', interval: '5s', ring_size: 10 } }));
  assert.ok(!o.collectors.includes('filesystem'));
  assert.equal(o.push.remoteWrite, 'http://127.0.0.1:9090/api/v1/write');
  assert.equal(o.push.intervalMs, 5000);
  assert.equal(o.push.ringSize, 10);
});

test('an unknown collector or a non-http URL is a config error naming the key', () => {
  assert.throws(() => validate(agentConfigSchema, { disable: ['nope'] }), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "disable\.0"/.test(e.message));
  assert.throws(() => validate(agentConfigSchema, { push: { remote_write: 'ftp://x' } }), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /push\.remote_write/.test(e.message));
});
