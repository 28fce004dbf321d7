// `opsctl oom`: OOM-kill detection (placeholder until the watcher lands).
import { Command } from 'commander';

export function oomCommand(): Command {
  const oom = new Command('oom').description('detect OOM kills');
  oom.command('watch').description('report OOM kills as they happen').action(() => undefined);
  return oom;
}
