import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOpsError } from '../core/errors.ts';
import { parseTarget } from './target-url.ts';

const parsed = (input: string): unknown => {
  const { prober, target, settings } = parseTarget(input);
  return { prober, target, settings };
};

test('http and https URLs go to the http prober as they are', () => {
  assert.deepEqual(parsed('https://example.test'), { prober: 'http', target: 'https://example.test', settings: {} });
  assert.deepEqual(parsed('http://user:pw@127.0.0.1:8080/healthz?x=1'), { prober: 'http', target: 'http://user:pw@127.0.0.1:8080/healthz?x=1', settings: {} });
  assert.equal(parseTarget('HTTPS://example.test').prober, 'http');
});

test('tcp, tls and grpc take host:port; tls and grpcs default to 443', () => {
  assert.deepEqual(parsed('tcp://db:5432'), { prober: 'tcp', target: 'db:5432', settings: {} });
  assert.deepEqual(parsed('tcp://[::1]:5432'), { prober: 'tcp', target: '[::1]:5432', settings: {} });
  assert.deepEqual(parsed('tls://example.test:8443'), { prober: 'tls', target: 'example.test:8443', settings: {} });
  assert.deepEqual(parsed('tls://example.test'), { prober: 'tls', target: 'example.test:443', settings: {} });
  assert.deepEqual(parsed('grpc://svc:50051'), { prober: 'grpc', target: 'svc:50051', settings: {} });
  assert.deepEqual(parsed('grpcs://svc:50051'), { prober: 'grpc', target: 'svc:50051', settings: { tls: true } });
  assert.deepEqual(parsed('grpcs://svc'), { prober: 'grpc', target: 'svc:443', settings: { tls: true } });
});

test('icmp takes a host, without brackets for IPv6', () => {
  assert.deepEqual(parsed('icmp://10.0.0.1'), { prober: 'icmp', target: '10.0.0.1', settings: {} });
  assert.deepEqual(parsed('icmp://[::1]'), { prober: 'icmp', target: '::1', settings: {} });
});

test('dns takes the server, an optional port, the name and an optional type', () => {
  assert.deepEqual(parsed('dns://127.0.0.1/example.test'), { prober: 'dns', target: '127.0.0.1', settings: { query_name: 'example.test' } });
  assert.deepEqual(parsed('dns://127.0.0.1:5353/example.test?type=mx'), { prober: 'dns', target: '127.0.0.1:5353', settings: { query_name: 'example.test', query_type: 'MX' } });
  assert.deepEqual(parsed('dns://[::1]:53/_sip._tcp.example.test?type=SRV'), { prober: 'dns', target: '[::1]:53', settings: { query_name: '_sip._tcp.example.test', query_type: 'SRV' } });
});

test('unknown schemes and malformed targets are usage errors naming the target', () => {
  const cases: Array<[string, RegExp]> = [
    ['example.test', /target "example\.test": expected a URL/],
    ['ftp://example.test', /target "ftp:\/\/example\.test": unknown scheme "ftp:\/\/"/],
    ['tcp://db', /target "tcp:\/\/db": missing port/],
    ['tcp://db:5432/x', /takes no path/],
    ['tcp://db:99999', /not a valid URL/],
    ['icmp://10.0.0.1:7', /takes no port/],
    ['dns://127.0.0.1', /expected dns:\/\/server\[:port\]\/name/],
    ['dns://127.0.0.1/example.test?kind=MX', /unknown parameter "kind"/],
    ['grpc://svc:50051?x=1', /takes no \?query/],
    ['tcp://user@db:5432', /takes no user or password/],
    ['http://', /./],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseTarget(input), (err: unknown) => {
      assert.ok(isOpsError(err, 'OPS_ERR_USAGE'), `${input}: ${String(err)}`);
      assert.match(err.message, message, input);
      return true;
    });
  }
});
