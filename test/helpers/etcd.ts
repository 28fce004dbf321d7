// A real etcd (Debian's etcd-server) on free loopback ports for the store tests; stop() and
// start() again keep its data dir and ports, to test clients across a server restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, stopChild } from './process.ts';

export interface EtcdServer {
  /** etcd://127.0.0.1:PORT */
  url: string;
  /** SIGTERM (then SIGKILL); resolves once it exited. */
  stop(): Promise<void>;
  /** Starts it again on the same data dir and ports; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it and removes its data dir. */
  destroy(): Promise<void>;
}

/** Starts etcd (`path`, from requireTool) and resolves once /health answers. */
export async function startEtcd(path: string): Promise<EtcdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'default', '--data-dir', join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `default=${peer}`, '--logger', 'zap', '--log-level', 'error',
  ];
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start(): Promise<void> {
    stderr = '';
    const proc = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd exited (${proc.exitCode ?? proc.signalCode}): ${stderr}`);
      try {
        const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
        const body = await res.json() as { health?: string };
        if (body.health === 'true') return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await stopChild(proc);
    throw new Error(`etcd did not answer on ${client} within 20 s: ${stderr}`);
  }

  await start();
  return {
    url: `etcd://127.0.0.1:${clientPort}`,
    stop: async () => { if (child) await stopChild(child); },
    start,
    destroy: async () => {
      if (child) await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
