// `opsctl ship`: tail, parse, filter and deliver logs at least once, per a TOML pipeline config.
import { Command } from 'commander';
import { commandLogger, globalOptions, writeOut } from '../core/command.ts';

interface ShipFlags {
  config: string;
  checkConfig?: boolean;
  listen?: string;
  dataDir?: string;
}

export function shipCommand(): Command {
  return new Command('ship')
    .description('ship logs: tail files or stdin, parse and filter, deliver at least once to HTTP, TCP, files')
    .requiredOption('-c, --config <file>', 'TOML pipeline: [sources.*], [transforms.*], [sinks.*] wired by inputs')
    .option('--check-config', 'validate the config (schemas, inputs, plugins) and exit (0 valid, 78 invalid)')
    .option('--listen <host:port>', 'override the address of /metrics, /healthz, /readyz and POST /-/reload')
    .option('--data-dir <dir>', 'override data_dir (checkpoints, disk buffers, dead letters)')
    .addHelpText('after', `
A pipeline names its components and wires them with "inputs", fan-in and fan-out included:
  [sources.app]      type = "file"   include = ["/var/log/app/*.log"]
  [transforms.parse] type = "parse"  inputs = ["app"]    format = "nginx"
  [sinks.out]        type = "http"   inputs = ["parse"]  url = "http://collector:8080/ingest"
Checkpoints move only after every sink downstream acknowledged the lines (at-least-once).
SIGHUP or POST /-/reload re-reads the config (an invalid one is reported and the old one kept);
SIGTERM drains in-flight batches within shutdown_timeout and saves checkpoints.
Environment: OPSCTL_SHIP_DATA_DIR, OPSCTL_SHIP_LISTEN, OPSCTL_SHIP_LOG__LEVEL ("__" nests).
Exit codes: 0 stopped cleanly (or stdin ended), 78 invalid config, 69 cannot listen.

Examples:
  opsctl ship --config examples/ship.toml
  opsctl ship --config /etc/opsctl/ship.toml --check-config
  journalctl -f -o cat | opsctl ship --config stdin-to-http.toml
  curl -X POST http://127.0.0.1:9180/-/reload`)
    .action(async (flags: ShipFlags, cmd: Command) => {
      const { loadShipConfig } = await import('./service.ts');
      const g = globalOptions(cmd);
      const root = cmd.parent;
      const cli = (name: string): boolean => root?.getOptionValueSource(name) === 'cli';
      const overrides = {
        listen: flags.listen, dataDir: flags.dataDir,
        logLevel: cli('logLevel') ? g.logLevel : undefined, logFormat: cli('logFormat') ? g.logFormat : undefined,
      };
      const config = loadShipConfig(flags.config, overrides);
      if (flags.checkConfig) {
        const { checkServices, hosted } = await import('../core/runner.ts');
        const { shipService } = await import('./serve.ts');
        await checkServices([hosted('ship', shipService, { file: flags.config, overrides, config })]);
        const count = (o: object): number => Object.keys(o).length;
        return writeOut(`config ok: ${flags.config} (${count(config.sources)} sources, ${count(config.transforms)} transforms, ${count(config.sinks)} sinks)\n`);
      }
      const { createLogger } = await import('../core/log.ts');
      const log = cli('logLevel') || cli('logFormat') ? await commandLogger(cmd) : createLogger({ level: config.log.level, format: config.log.format });
      const { runShip } = await import('./serve.ts');
      await runShip({ file: flags.config, config, overrides, log });
    });
}
