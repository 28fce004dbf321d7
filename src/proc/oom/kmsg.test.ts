import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { errnoCode } from '../../core/errors.ts';
import { KmsgReader } from './kmsg.ts';

const tmp = mkdtempSync(join(tmpdir(), 'opsctl-oom-kmsg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('reads only records appended after skipToEnd, skipping dictionary lines, keeping partial lines', (t) => {
  const file = join(tmp, 'kmsg');
  writeFileSync(file, '6,1,100,-;old record\n');
  const reader = new KmsgReader(file);
  t.after(() => reader.close());
  reader.skipToEnd();
  assert.deepEqual(reader.read().records, []);
  appendFileSync(file, '6,2,200,-;new record\n SUBSYSTEM=memory\n DEVICE=+memory:x\n3,3,300,-;half');
  assert.deepEqual(reader.read().records.map((r) => r.message), ['new record']);
  appendFileSync(file, ' a line\\x0a\n');
  assert.deepEqual(reader.read().records.map((r) => [r.seq, r.message]), [[3, 'half a line\n']]);
  reader.close();
  assert.deepEqual(reader.read().records, [], 'a closed reader reads nothing');
});

test('an unreadable path throws the system error', () => {
  assert.throws(() => new KmsgReader(join(tmp, 'missing')), (err) => errnoCode(err) === 'ENOENT');
});

test('the real /dev/kmsg: non-blocking, starts at the end, sees a record written now', (t) => {
  let reader: KmsgReader;
  try {
    reader = new KmsgReader('/dev/kmsg');
  } catch (err) {
    t.skip(`/dev/kmsg not readable here (${errnoCode(err) ?? String(err)})`);
    return;
  }
  t.after(() => reader.close());
  reader.skipToEnd();
  const marker = `opsctl kmsg reader test ${process.pid} ${Date.now()}`;
  try {
    writeFileSync('/dev/kmsg', `<7>${marker}\n`);
  } catch (err) {
    t.skip(`/dev/kmsg not writable here (${errnoCode(err) ?? String(err)}), so no record can be made`);
    return;
  }
  const started = performance.now();
  const batch = reader.read();
  assert.ok(performance.now() - started < 1000, 'read() returns without waiting for more records');
  assert.ok(batch.records.some((r) => r.message.endsWith(marker) && r.level === 7), 'the record written after skipToEnd is read');
  assert.ok(batch.records.length < 50, 'records from before skipToEnd are not read again');
  assert.deepEqual(reader.read().records.filter((r) => r.message.endsWith(marker)), []);
});
