// End to end: a SIGHUP while the program is still loading (logrotate's `postrotate kill -HUP` right
// after a restart) does not end a command that reloads: it is held and reloads once the service
// has started. A command that does not reload keeps SIGHUP's default and ends.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collect, startCli, waitForLine } from './helpers/cli.ts';
import { startReceiver } from './helpers/receiver.ts';
import { fileSource, httpSink, shipHead, shipWorkspace, workspace } from './helpers/ship.ts';
import { sentLine } from './helpers/sighup-on-load.ts';

const sighupOnLoad = fileURLToPath(new URL('helpers/sighup-on-load.ts', import.meta.url));
const probesToml = 'listen = "127.0.0.1:0"\n[[targets]]\nname = "closed"\ntarget = "127.0.0.1:1"\nmodule = "tcp_connect"\ninterval = "1s"\ntimeout = "500ms"\n';

/** Each command that reloads, with the args that start it on a config of its own (in a temp dir). */
const commands: Array<{ name: string; args: (t: { after(fn: () => unknown): void }) => string[] | Promise<string[]> }> = [
  {
    name: 'ship',
    args: async (t) => {
      const { data, log, file } = shipWorkspace(t);
      const rx = await startReceiver(t);
      writeFileSync(file, shipHead(data) + fileSource('app', log) + httpSink('rx', ['app'], rx.url));
      return ['ship', '--config', file];
    },
  },
  {
    name: 'probe serve',
    args: (t) => {
      const { dir } = workspace(t, 'opsctl-sighup-');
      writeFileSync(join(dir, 'probes.toml'), probesToml);
      return ['probe', 'serve', '--config', join(dir, 'probes.toml')];
    },
  },
  {
    name: 'up',
    args: (t) => {
      const { dir } = workspace(t, 'opsctl-sighup-');
      writeFileSync(join(dir, 'probes.toml'), probesToml);
      writeFileSync(join(dir, 'up.toml'), 'listen = "127.0.0.1:0"\n[oom]\nenabled = false\n[probe]\nenabled = true\nconfig = "probes.toml"\n');
      return ['up', '--config', join(dir, 'up.toml')];
    },
  },
];

for (const command of commands) {
  test(`${command.name}: a SIGHUP while the program loads is held, then reloads once started`, async (t) => {
    // The preload sends the SIGHUP from inside the child, at a fixed point of its module loading.
    const child = startCli(['--log-level', 'info', ...await command.args(t)], { nodeArgs: ['--import', sighupOnLoad] });
    const done = collect(child, 60_000);
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    try {
      await waitForLine(child, /"msg":"listening"/, 30_000);
      await waitForLine(child, /"msg":"config reloaded"/, 30_000);
    } finally {
      child.kill('SIGTERM');
    }
    const res = await done;
    assert.ok(res.stderr.includes(sentLine), `the preload sent its SIGHUP; stderr:\n${res.stderr}`);
    assert.equal(res.signal, null, res.stderr);
    assert.equal(res.code, 0, res.stderr);
    const reloads = res.stderr.split('\n').filter((l) => /"signal":"SIGHUP".*"msg":"reloading config"/.test(l));
    assert.equal(reloads.length, 1, `one SIGHUP, one reload:\n${res.stderr}`);
  });
}

test('ps --watch does not reload: a SIGHUP ends it', async () => {
  const child = startCli(['ps', '--watch', '--interval', '100ms', '-o', 'pid', '--no-sample']);
  const done = collect(child, 30_000);
  // Once it has drawn a table, its program is loaded and running.
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => resolve());
    child.on('exit', () => reject(new Error('ps --watch exited before drawing')));
  });
  child.kill('SIGHUP');
  const res = await done;
  assert.equal(res.signal, 'SIGHUP', res.stderr);
});
