// `opsctl ps` and `opsctl snapshot` (placeholder).
import { Command } from 'commander';

export function psCommand(): Command {
  return new Command('ps').description('list processes').action(() => undefined);
}

export function snapshotCommand(): Command {
  return new Command('snapshot').description('snapshot the host and its processes').action(() => undefined);
}
