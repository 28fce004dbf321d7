// Ports and child processes for tests that run real servers (Prometheus, Alertmanager...).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A port free on 127.0.0.1 right now (for servers that cannot be told to pick port 0). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/**
 * A real Prometheus (Debian's binary at `path`) on a free loopback port with its data in `dir`,
 * stopped when the test ends. `config` is its prometheus.yml; `remoteWrite` turns the receiver on.
 */
export async function startPrometheus(
  t: { after(fn: () => unknown): void },
  path: string,
  dir: string,
  options: { config: string; remoteWrite?: boolean },
): Promise<{ port: number; query: (promql: string) => Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> }> {
  writeFileSync(join(dir, 'prometheus.yml'), options.config);
  const port = await freePort();
  const child = spawn(path, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ...(options.remoteWrite ? ['--web.enable-remote-write-receiver'] : []),
  ], { stdio: 'ignore' });
  // Registered before anything can fail, so Prometheus never outlives the test.
  t.after(() => stopChild(child));
  return {
    port,
    query: async (promql) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = await res.json() as { data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return body.data?.result ?? [];
    },
  };
}
