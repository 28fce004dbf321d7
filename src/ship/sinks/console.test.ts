import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DeliveryError } from '../../core/retry.ts';
import { entry } from '../testing.ts';
import { console as consoleSink, createConsoleWriter, type ConsoleConfig } from './console.ts';

/** A stream keeping what it is given; `hold` keeps each write's callback until release() is called. */
function sink(options: { hold?: boolean; fail?: string } = {}) {
  let text = '';
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _enc, cb) {
      if (options.fail !== undefined) { cb(Object.assign(new Error(options.fail), { code: options.fail })); return; }
      text += chunk.toString('utf8');
      if (options.hold === true) pending.push(() => { cb(); }); else cb();
    },
  });
  return { stream, text: () => text, release: () => { for (const f of pending.splice(0)) f(); } };
}

const signal = new AbortController().signal;
const onBad = (): void => undefined;
const writer = (encoding: ConsoleConfig['encoding'], stream: Writable, color = false) => createConsoleWriter({ encoding, stream, color, onBad });

test('json writes one entry per line', async () => {
  const out = sink();
  const w = writer('json', out.stream);
  const batch = [entry('one'), entry('two', { fields: { a: 1 } })];
  await w.write(batch, signal);
  assert.equal(out.text(), batch.map((e) => JSON.stringify(e) + '\n').join(''));
  assert.equal(w.lastBytes, Buffer.byteLength(out.text()));
});

test('text writes timestamp, level, source and message, coloured only when asked', async () => {
  const plain = sink();
  const e = entry('disk full', { level: 'error', source: '/var/log/app.log' });
  await writer('text', plain.stream).write([e, entry('hello', { level: 'unknown', source: 'stdin' })], signal);
  assert.equal(plain.text(), '2026-11-22T10:00:00.000Z ERROR /var/log/app.log disk full\n2026-11-22T10:00:00.000Z UNKNOWN stdin hello\n');
  const colored = sink();
  await writer('text', colored.stream, true).write([e], signal);
  assert.equal(colored.text(), '2026-11-22T10:00:00.000Z \x1b[31mERROR\x1b[39m /var/log/app.log disk full\n');
});

test('a write resolves only once the stream took it', async () => {
  const out = sink({ hold: true });
  const w = writer('text', out.stream);
  let done = false;
  const writing = w.write([entry('x'.repeat(100))], signal).then(() => { done = true; });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  out.release();
  await writing;
  assert.equal(done, true);
});

test('EPIPE is not retryable, other errors are', async () => {
  const w = writer('json', sink({ fail: 'EPIPE' }).stream);
  await assert.rejects(w.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && !err.retryable && err.details.error === 'EPIPE');
  await assert.rejects(w.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && !err.retryable);
  const again = writer('json', sink({ fail: 'EAGAIN' }).stream);
  await assert.rejects(again.write([entry('x')], signal), (err: unknown) => err instanceof DeliveryError && err.retryable);
});

test('the definition writes to the process stdout', () => {
  const script = `
    import { console as c } from './src/ship/sinks/console.ts';
    import { entry, testContext } from './src/ship/testing.ts';
    const w = c.create(c.schema.parse({ type: 'console', encoding: 'text' }), testContext('out', 'sink'));
    await w.write([entry('to stdout', { level: 'info' })], new AbortController().signal);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../../..'), env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  assert.equal(out, '2026-11-22T10:00:00.000Z INFO /var/log/test.log to stdout\n');
  assert.equal(consoleSink.schema.parse({ type: 'console' }).target, 'stdout');
});
