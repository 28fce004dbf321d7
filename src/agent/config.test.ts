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

test('link keys: server needs token_file; relative files are under the config directory', () => {
  assert.equal(agentOptions(validate(agentConfigSchema, {})).link, undefined);
  assert.throws(() => validate(agentConfigSchema, { server: 'wss://opsctl.example' }), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "token_file": a server needs token_file/.test(e.message));
  assert.throws(() => validate(agentConfigSchema, { server: 'https://x', token_file: 't' }), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "server": expected a wss:\/\//.test(e.message));
  assert.throws(() => validate(agentConfigSchema, { labels: { role: 'web server' } }), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "labels\.role": "web server" is not a label value/.test(e.message));
  const c = validate(agentConfigSchema, { server: 'wss://opsctl.example:9443', token_file: 'agent.token', node_name: 'web-1', labels: { role: 'web' }, server_ca: '/etc/opsctl/ca.pem' });
  assert.deepEqual(agentOptions(c, { configDir: '/etc/opsctl' }).link, {
    server: ['wss://opsctl.example:9443'], tokenFile: '/etc/opsctl/agent.token', nodeName: 'web-1', labels: { role: 'web' },
    serverCa: '/etc/opsctl/ca.pem', dataDir: '/var/lib/opsctl/agent',
  });
});

test('link keys: server is one URL, a comma-separated list or an array of them (replicas, in order)', () => {
  const servers = (server: unknown): unknown => validate(agentConfigSchema, { server, token_file: 't' }).server;
  assert.deepEqual(servers('wss://a.example'), ['wss://a.example']);
  assert.deepEqual(servers('wss://a.example, wss://b.example:9443,'), ['wss://a.example', 'wss://b.example:9443']);
  assert.deepEqual(servers(['wss://a.example', 'ws://127.0.0.1:1,ws://127.0.0.1:2']), ['wss://a.example', 'ws://127.0.0.1:1', 'ws://127.0.0.1:2']);
  assert.throws(() => servers(['wss://a.example', 'https://b.example']), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "server": expected a wss:\/\/ \(or ws:\/\/\) URL such as "wss:\/\/opsctl.example:9443", got "https:\/\/b.example"/.test(e.message));
  assert.throws(() => servers([]), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "server": expected at least one/.test(e.message));
  assert.throws(() => servers(' , '), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "server": expected at least one/.test(e.message));
  assert.throws(() => servers(7), (e) => isOpsError(e, 'OPS_ERR_CONFIG_INVALID') && /key "server": expected a wss:\/\/ URL or a list/.test(e.message));
});
