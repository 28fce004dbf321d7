// `opsctl version`: what build this is.
import { Command } from 'commander';
import { writeOut } from '../core/command.ts';

export function versionCommand(): Command {
  return new Command('version')
    .description('print version, git commit, build date, Node version and platform')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExamples:\n  opsctl version\n  opsctl version --json | jq -r .commit')
    .action(async (opts: { json?: boolean }) => {
      const { versionInfo } = await import('../core/version.ts');
      const v = versionInfo();
      if (opts.json) return writeOut(`${JSON.stringify(v)}\n`);
      return writeOut(`opsctl ${v.version}\n  commit:   ${v.commit}\n  built:    ${v.buildDate}\n  node:     ${v.node}\n  platform: ${v.platform}\n`);
    });
}
