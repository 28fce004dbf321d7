import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { openStore } from './index.ts';
import { defaultStoreUrl, parseStoreUrl } from './url.ts';

test('sqlite URLs: relative paths are under data_dir, absolute ones are kept', () => {
  assert.deepEqual(parseStoreUrl(defaultStoreUrl, '/var/lib/opsctl'), { backend: 'sqlite', path: '/var/lib/opsctl/store.db' });
  assert.deepEqual(parseStoreUrl('sqlite:/srv/state.db', '/var/lib/opsctl'), { backend: 'sqlite', path: '/srv/state.db' });
  assert.deepEqual(parseStoreUrl('sqlite:state.db'), { backend: 'sqlite', path: resolve('state.db') });
});

test('etcd URLs: hosts with default port 2379, IPv6, TLS by scheme', () => {
  assert.deepEqual(parseStoreUrl('etcd://10.0.0.1,etcd-2.internal:2479,[::1]:2380/'), { backend: 'etcd', hosts: ['10.0.0.1:2379', 'etcd-2.internal:2479', '[::1]:2380'], tls: false });
  assert.deepEqual(parseStoreUrl('etcds://etcd.internal'), { backend: 'etcd', hosts: ['etcd.internal:2379'], tls: true });
});

test('bad store URLs fail with OPS_ERR_STORE_URL saying what is expected', () => {
  const bad: Array<[string, RegExp]> = [
    ['postgres://db', /expected sqlite:PATH, etcd:/],
    ['sqlite:', /no path/],
    ['sqlite://data/x.db', /no \/\//],
    ['etcd://user:secret@host', /credentials and TLS files are options/],
    ['etcd://host:99999', /port 99999 is out of range/],
    ['etcd://a,,b', /"" is not host\[:port\]/],
  ];
  for (const [url, message] of bad) {
    assert.throws(() => parseStoreUrl(url), (err) => isOpsError(err, 'OPS_ERR_STORE_URL') && message.test(err.message), url);
  }
});

test('openStore checks the etcd options before connecting', async () => {
  await assert.rejects(openStore('sqlite:x.db', { username: 'root', password: 'p' }), (err) => isOpsError(err, 'OPS_ERR_STORE_URL'));
  await assert.rejects(openStore('etcd://127.0.0.1', { tls: { certFile: '/c.pem' } }), (err) => isOpsError(err, 'OPS_ERR_STORE_URL') && /certificate and its key/.test(err.message));
  await assert.rejects(openStore('etcd://127.0.0.1', { tls: { caFile: '/nonexistent/ca.pem' } }), (err) => isOpsError(err, 'OPS_ERR_STORE_URL') && err.message.includes('/nonexistent/ca.pem'));
  await assert.rejects(openStore('etcd://127.0.0.1', { username: 'root' }), (err) => isOpsError(err, 'OPS_ERR_STORE_URL'));
});
