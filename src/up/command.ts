// `opsctl up`: every service the config enables, in one process, stopped in order on SIGTERM/SIGINT.
import { Command } from 'commander';
import { globalOptions, writeOut } from '../core/command.ts';

interface UpFlags {
  config?: string;
  checkConfig?: boolean;
  listen?: string;
}

export function upCommand(): Command {
  return new Command('up')
    .description('run every service the config enables: metrics/health endpoint, OOM watcher, probe service, agent, log shipper')
    .option('-c, --config <file>', 'TOML config file (keys may also come from OPSCTL_* variables)')
    .option('--check-config', 'validate the config and exit (0 valid, 78 invalid)')
    .option('--listen <host:port>', 'override the listen address of /metrics, /healthz, /readyz')
    .addHelpText('after', `
Environment: OPSCTL_LISTEN, OPSCTL_LOG__LEVEL, OPSCTL_OOM__INTERVAL... ("__" nests a section).
With [probe] enabled, /probe and /api/v1/targets are served too; with [probe] or [ship], POST /-/reload
and SIGHUP reload their configs.
Precedence: config file < environment < flags.

Examples:
  opsctl up --config examples/opsctl.toml
  opsctl up --config /etc/opsctl/opsctl.toml --check-config
  OPSCTL_OOM__ENABLED=false opsctl up --listen 127.0.0.1:0`)
    .action(async (flags: UpFlags, cmd: Command) => {
      const { loadConfig } = await import('../core/config.ts');
      const { upConfigSchema } = await import('./config.ts');
      const g = globalOptions(cmd);
      const root = cmd.parent;
      const cli = (name: string): boolean => root?.getOptionValueSource(name) === 'cli';
      const config = loadConfig({
        schema: upConfigSchema,
        file: flags.config,
        // OPSCTL_SHIP_* (one underscore) belongs to the ship config that [ship] loads, not to this file.
        env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^OPSCTL_SHIP_[^_]/.test(name))),
        flags: {
          listen: flags.listen,
          'log.level': cli('logLevel') ? g.logLevel : undefined,
          'log.format': cli('logFormat') ? g.logFormat : undefined,
        },
        flagNames: { listen: '--listen', 'log.level': '--log-level', 'log.format': '--log-format' },
      });
      if (flags.checkConfig) {
        // Each enabled service checks its own config as its standalone command's --check-config does.
        const { enabledServices } = await import('./up.ts');
        const { checkServices } = await import('../core/runner.ts');
        await checkServices(await enabledServices(config, flags.config));
        return writeOut(`config ok${flags.config ? `: ${flags.config}` : ''}\n`);
      }
      const { runUp } = await import('./up.ts');
      await runUp(config, flags.config);
    });
}
