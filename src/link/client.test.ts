import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { LinkClient, linkUrl, ReconnectBackoff } from './client.ts';
import { RecordingApplier, testFacts } from './testing.ts';
import { parseOsRelease } from './facts.ts';

test('backoff: full jitter from the first reconnect, doubling steps, capped', () => {
  const randoms = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.999, 0];
  const b = new ReconnectBackoff({ random: () => randoms.shift() ?? 0.5 });
  // Steps 1, 2, 4, 8, 16, 32, 60 (cap), 60 s, each times the random draw.
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  assert.equal(b.next(), 59_940, 'never more than the cap');
  assert.equal(b.next(), 0, 'anywhere from zero: agents dropped at once come back spread');
});

test('backoff: a link that lasted resets the steps; a short one does not', () => {
  let now = 0;
  const b = new ReconnectBackoff({ random: () => 0.999_999, now: () => now, baseMs: 1000, capMs: 60_000, resetAfterMs: 30_000 });
  assert.equal(b.next(), 999);
  assert.equal(b.next(), 1999);
  b.linked();
  now += 5_000;
  b.unlinked();
  assert.equal(b.next(), 3999, 'a 5 s link (flapping) keeps growing the wait');
  b.linked();
  now += 30_000;
  b.unlinked();
  assert.equal(b.next(), 999, 'a 30 s link starts again from the first step');
});

test('backoff: spread of a thousand agents over the first step', () => {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const delays = Array.from({ length: 1000 }, () => new ReconnectBackoff({ random }).next());
  const perTenth = Array.from({ length: 10 }, (_, i) => delays.filter((d) => d >= i * 100 && d < (i + 1) * 100).length);
  assert.ok(perTenth.every((n) => n > 50 && n < 150), `about 100 per 100 ms: ${perTenth.join(',')}`);
});

test('backoff: with perStep n (n replicas) a round of n attempts shares a step; a lasting link resets it', () => {
  let now = 0;
  const b = new ReconnectBackoff({ random: () => 0.999_999, now: () => now, perStep: 3, capMs: 8000 });
  const waits = Array.from({ length: 12 }, () => b.next());
  assert.deepEqual(waits, [999, 999, 999, 1999, 1999, 1999, 3999, 3999, 3999, 7999, 7999, 7999], 'the step doubles once per round of three');
  b.linked();
  now += 30_000;
  b.unlinked();
  assert.equal(b.next(), 999);
});

test('client: several server URLs start at a random one (spreading agents) and go round in order', () => {
  const urls = ['ws://127.0.0.1:1', 'ws://127.0.0.1:2', 'ws://127.0.0.1:3'];
  const at = (r: number): string => new LinkClient({
    url: urls, token: 't', name: 'n', labels: {}, facts: testFacts(), apply: new RecordingApplier(), log: pino({ level: 'silent' }), backoff: { random: () => r },
  }).url;
  assert.deepEqual([at(0), at(0.34), at(0.67), at(0.999_999)], ['ws://127.0.0.1:1/api/v1/link', 'ws://127.0.0.1:2/api/v1/link', 'ws://127.0.0.1:3/api/v1/link', 'ws://127.0.0.1:3/api/v1/link']);
  let seed = 7;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const counts = new Map<string, number>();
  for (let i = 0; i < 900; i++) {
    const u = new LinkClient({ url: urls, token: 't', name: 'n', labels: {}, facts: testFacts(), apply: new RecordingApplier(), log: pino({ level: 'silent' }), backoff: { random } }).url;
    counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  assert.ok([...counts.values()].every((n) => n > 240 && n < 360) && counts.size === 3, `about 300 each: ${[...counts.values()].join(',')}`);
  assert.throws(() => new LinkClient({ url: [], token: 't', name: 'n', labels: {}, facts: testFacts(), apply: new RecordingApplier(), log: pino({ level: 'silent' }) }), /at least one server URL/);
});

test('linkUrl: ws/wss only; the link path by default', () => {
  assert.equal(linkUrl('wss://opsctl.example'), 'wss://opsctl.example/api/v1/link');
  assert.equal(linkUrl('ws://127.0.0.1:9443/'), 'ws://127.0.0.1:9443/api/v1/link');
  assert.equal(linkUrl('wss://lb.example/opsctl/api/v1/link'), 'wss://lb.example/opsctl/api/v1/link');
  assert.throws(() => linkUrl('https://opsctl.example'), /expected a ws:\/\/ or wss:\/\/ URL/);
});

test('facts: os-release fields, quoted or not', () => {
  const text = 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\n# comment\nVERSION_CODENAME=\'trixie\'\nX="a \\"b\\""\n';
  assert.deepEqual(parseOsRelease(text), { NAME: 'Debian GNU/Linux', PRETTY_NAME: 'Debian GNU/Linux 13 (trixie)', ID: 'debian', VERSION_CODENAME: 'trixie', X: 'a "b"' });
});
