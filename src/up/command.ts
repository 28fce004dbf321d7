// `opsctl up`: every service the config enables, in one process (placeholder).
import { Command } from 'commander';

export function upCommand(): Command {
  return new Command('up').description('run every service the config enables').action(() => undefined);
}
