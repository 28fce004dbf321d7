// `opsctl agent` flags: one --[no-]collector.<name> pair per map entry, defaults from the entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectors } from './collectors/index.ts';
import { agentCommand, enabledCollectors } from './command.ts';

test('every collector has a --collector.<name> and --no-collector.<name> flag', () => {
  const flags = new Set(agentCommand().options.map((o) => o.long));
  for (const name of Object.keys(collectors)) {
    assert.ok(flags.has(`--collector.${name}`), name);
    assert.ok(flags.has(`--no-collector.${name}`), name);
  }
  for (const f of ['--listen', '--path.procfs', '--path.sysfs', '--path.rootfs', '--collector.textfile.directory']) assert.ok(flags.has(f), f);
});

test('flags override each collector default', () => {
  const cmd = agentCommand();
  cmd.parseOptions(['--no-collector.cpu', '--collector.textfile.directory', '/tmp/x']);
  const opts = cmd.opts<Record<`collector.${string}`, unknown>>();
  const enabled = enabledCollectors(opts);
  assert.ok(!enabled.includes('cpu'));
  assert.ok(enabled.includes('meminfo'));
  assert.ok(enabled.includes('textfile'), 'the directory flag does not toggle the collector');
  assert.deepEqual(enabledCollectors({}), Object.values(collectors).filter((c) => c.defaultEnabled).map((c) => c.name));
  assert.deepEqual(enabledCollectors({ 'collector.cpu': false, 'collector.time': true }).includes('cpu'), false);
});
