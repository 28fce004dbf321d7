// Test helper run as a child process (as an unprivileged user when the tests run as root): tails
// argv[2] into data dir argv[3], printing each message on stdout and warnings as JSON on stderr.
import { pino } from 'pino';
import { createRegistry } from '../../../../core/metrics.ts';
import { ShipMetrics } from '../../../metrics.ts';
import { file } from '../../file.ts';

const [path, dataDir] = process.argv.slice(2) as [string, string];
const metrics = new ShipMetrics(createRegistry({ runtime: false }));
const source = file.create(file.schema.parse({ type: 'file', include: [path], glob_interval: '50ms', poll_interval: '20ms' }), {
  name: 'child', log: pino({ level: 'warn' }, pino.destination(2)), counters: metrics.component('source', 'child'), metrics,
  dataDir, configDir: dataDir, deadLetter: { write: () => undefined },
});
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
await source.run((batch) => {
  for (const e of batch.entries) process.stdout.write(`${e.message}\n`);
  batch.ack.done();
  return Promise.resolve();
}, controller.signal);
await source.close?.();
