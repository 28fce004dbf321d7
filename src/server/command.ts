// `opsctl server`: runs the control plane, and `token create`. Light: everything loads inside the actions.
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeOut } from '../core/command.ts';
import { parseDurationMs } from '../core/units.ts';
import { isScope, scopes as knownScopes, type Scope } from './scopes.ts';

interface TokenCreateFlags {
  sub: string;
  scope: Scope[];
  ttl: number;
  config?: string;
  secretFile?: string;
  privateKeyFile?: string;
  issuer?: string;
  audience?: string;
  json?: boolean;
}

const scopeArg = (value: string, previous: Scope[] | undefined): Scope[] => {
  const list = value.split(/[\s,]+/).filter((s) => s !== '');
  const unknown = list.filter((s) => !isScope(s));
  if (list.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`unknown scope ${unknown.join(', ') || '(none)'}; expected ${knownScopes.join(', ')}`);
  return [...new Set([...(previous ?? []), ...list as Scope[]])];
};
const subjectArg = (value: string): string => {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty subject');
  return value;
};
const ttlArg = (value: string): number => {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError('expected a duration of at least 1s, such as 15m, 24h or 90d');
  return ms;
};

interface ServeFlags {
  config?: string;
  listen?: string;
  checkConfig?: boolean;
}

/** `opsctl server` (runs the control plane) and its `token create` subcommand. */
export function serverCommand(): Command {
  const server = new Command('server')
    .description('the control plane: API (nodes, config documents, audit), agent links, tokens')
    .option('-c, --config <file>', 'opsctl TOML config: its [server] section (the other sections are not run)')
    .option('--listen <host:port>', 'override [server] listen')
    .option('--check-config', 'validate the config and the token key and exit (0 valid, 78 invalid)')
    .addHelpText('after', `
Serves /api/v1 (OpenAPI at /api/v1/openapi.json) and the agent link (/api/v1/link) with
/metrics, /healthz and /readyz (ready while its store answers). The store is SQLite under
data_dir by default, or etcd for several replicas ([server] store = "etcd://h1:2379,h2:2379").
Without [server.auth], a signing secret is created under data_dir on first start.
SIGHUP is held and logged (nothing reloads yet); SIGTERM closes the agent links (they reconnect
to another replica) and stops.
Exit codes: 0 stopped, 69 cannot listen or reach the store, 78 config or key error.

Examples:
  opsctl server --config examples/opsctl.toml
  opsctl server --config /etc/opsctl/cluster.toml --listen 0.0.0.0:9120
  opsctl server token create --sub alice --scope ops:read,ops:write --ttl 24h --config /etc/opsctl/opsctl.toml
  opsctl server token create --sub web-1 --scope agent --ttl 90d --secret-file /etc/opsctl/jwt.secret`)
    .action((flags: ServeFlags, cmd: Command) => serve(flags, cmd));
  const token = server.command('token')
    .description('API tokens (JWT bearer) signed with the server key')
    .addHelpText('after', `
Examples:
  opsctl server token create --sub alice --scope ops:read --ttl 8h --config opsctl.toml`);
  token.command('create')
    .description('mint a token with the configured key and print it')
    .requiredOption('--sub <subject>', 'who the token is for (its sub claim: a person, a CI job, a node name)', subjectArg)
    .requiredOption('--scope <scopes>', `scopes, comma-separated (repeatable): ${knownScopes.join(', ')}`, scopeArg)
    .addOption(new Option('--ttl <duration>', 'lifetime (exp - iat)').argParser(ttlArg).default(3_600_000, '1h'))
    .option('-c, --config <file>', 'opsctl TOML config: the key from [server.auth], else the default secret under [server] data_dir')
    .addOption(new Option('--secret-file <file>', 'sign with this HS256 secret instead').conflicts('privateKeyFile'))
    .option('--private-key-file <file>', 'sign with this private key (PEM or JWK) instead; kid and alg from [server.auth] jwks_file when --config names one')
    .option('--issuer <iss>', 'iss claim (default [server.auth] issuer)')
    .option('--audience <aud>', 'aud claim (default [server.auth] audience)')
    .option('--json', 'print {token, subject, scopes, expires_at, id} as JSON')
    .addHelpText('after', `
Scopes: ops:read (reads), ops:write (every mutation; includes ops:read), ops:admin (tokens,
profiling; includes both), agent (an agent's link to the server; included by no other scope).
Without --config, --secret-file or --private-key-file the key is the default secret the server
creates under data_dir (/var/lib/opsctl/server/jwt-hs256.secret, or OPSCTL_SERVER__DATA_DIR).
The token is printed on stdout: it is a credential, store it as one.
Exit codes: 0 printed, 64 usage error, 78 no usable key or config error.

Examples:
  opsctl server token create --sub alice --scope ops:read,ops:write --ttl 24h --config /etc/opsctl/opsctl.toml
  opsctl server token create --sub ci --scope ops:write --ttl 15m --secret-file jwt.secret --json | jq -r .token
  opsctl server token create --sub web-1 --scope agent --ttl 90d --private-key-file signing-key.pem --issuer opsctl`)
    // commander gives `--config` after `token create` to the parent `server` (which has one too): take it from there.
    .action((flags: TokenCreateFlags, cmd: Command) => createToken({ ...flags, config: flags.config ?? (cmd.optsWithGlobals<{ config?: string }>().config) }));
  return server;
}

async function serve(flags: ServeFlags, cmd: Command): Promise<void> {
  const { loadConfig } = await import('../core/config.ts');
  const { globalOptions } = await import('../core/command.ts');
  const { upConfigSchema } = await import('../up/config.ts');
  const { serverFromSection } = await import('./section.ts');
  const { serverService } = await import('./service.ts');
  const runner = await import('../core/runner.ts');
  const { createLogger } = await import('../core/log.ts');
  const root = cmd.parent;
  const cli = (name: string): boolean => root?.getOptionValueSource(name) === 'cli';
  const g = globalOptions(cmd);
  const config = loadConfig({
    schema: upConfigSchema, file: flags.config,
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^OPSCTL_SHIP_[^_]/.test(name))),
    flags: { 'server.listen': flags.listen, 'log.level': cli('logLevel') ? g.logLevel : undefined, 'log.format': cli('logFormat') ? g.logFormat : undefined },
    flagNames: { 'server.listen': '--listen', 'log.level': '--log-level', 'log.format': '--log-format' },
  });
  const base = { configDir: flags.config === undefined ? process.cwd() : dirname(resolve(flags.config)) };
  const section = serverFromSection(config.server, base, true);
  if (!section) return;
  const services = [runner.hosted('server', serverService, section)];
  if (flags.checkConfig) {
    await runner.checkServices(services);
    return writeOut(`config ok${flags.config ? `: ${flags.config}` : ''} (store ${section.store})\n`);
  }
  const log = createLogger({ level: config.log.level, format: config.log.format });
  const { readPemPair } = await import('./section.ts');
  await runner.runServices({ services, listen: section.listen, https: section.tls && readPemPair(section.tls), log, shutdownTimeoutMs: config.shutdown_timeout });
}

async function createToken(flags: TokenCreateFlags): Promise<void> {
  const { loadServerConfig } = await import('./config.ts');
  const { ensureDefaultKey } = await import('./default-key.ts');
  const { mintToken } = await import('./auth.ts');
  const config = loadServerConfig(flags.config, process.env);
  let auth = config.auth;
  if (flags.secretFile !== undefined) auth = { ...auth, secret_file: resolve(flags.secretFile), jwks_file: undefined, private_key_file: undefined };
  else if (flags.privateKeyFile !== undefined) auth = { ...auth, private_key_file: resolve(flags.privateKeyFile), secret_file: undefined };
  else auth = await ensureDefaultKey(config.data_dir, auth, { create: false });
  const minted = await mintToken({ subject: flags.sub, scopes: flags.scope, ttl: flags.ttl, issuer: flags.issuer, audience: flags.audience }, auth);
  if (!flags.json) return writeOut(`${minted.token}\n`);
  const out = { token: minted.token, subject: minted.subject, scopes: minted.scopes, expires_at: minted.expiresAt.toISOString(), id: minted.id };
  return writeOut(`${JSON.stringify(out, null, 2)}\n`);
}
