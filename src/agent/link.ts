// The agent's link to `opsctl server` (src/link/): reads its token file (again before every
// connection) and CA, collects the host's facts, and applies pushed documents to files under its
// data dir. Running pushed probe and ship documents in this process is not wired yet (docs/link.md).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errnoCode, OpsError } from '../core/errors.ts';
import { FileApplier } from '../link/apply.ts';
import { LinkClient } from '../link/client.ts';
import { collectFacts } from '../link/facts.ts';

export interface AgentLinkOptions {
  /** wss://host[:port] or several replicas' URLs, or a function giving one at start (the server in this process, once it listens). */
  server: string | readonly string[] | (() => string);
  /** The file holding the agent's token (read again before every connection)... */
  tokenFile?: string | undefined;
  /** ...or a function that gives one (the server in this process mints it with its own key). */
  token?: (() => Promise<string>) | undefined;
  /** Default: the hostname. */
  nodeName?: string | undefined;
  labels: Record<string, string>;
  serverCa?: string | undefined;
  /** Pushed documents go under `<dataDir>/pushed/`. */
  dataDir: string;
}

/** The token in `file`; OPS_ERR_LINK_TOKEN when it cannot be read or is empty. */
export function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpsError('OPS_ERR_LINK_TOKEN', `token file ${file}: ${errnoCode(err) ?? String(err)}`, { details: { file }, cause: err });
  }
  const token = text.trim();
  if (token === '') throw new OpsError('OPS_ERR_LINK_TOKEN', `token file ${file} is empty`, { details: { file } });
  return token;
}

/** Starts the link (the token file must be readable now); stop the returned client to close it. */
export function startAgentLink(options: AgentLinkOptions, context: { log: Logger; registry: Registry; rootfs: string }): LinkClient {
  const { tokenFile } = options;
  if (tokenFile !== undefined) readToken(tokenFile);
  const token = tokenFile !== undefined ? (): string => readToken(tokenFile) : options.token;
  if (token === undefined) throw new OpsError('OPS_ERR_LINK_TOKEN', 'the link to the server needs a token file', { details: {} });
  let ca: Buffer | undefined;
  if (options.serverCa !== undefined) {
    try {
      ca = readFileSync(options.serverCa);
    } catch (err) {
      throw new OpsError('OPS_ERR_CONFIG_READ', `server CA ${options.serverCa}: ${errnoCode(err) ?? String(err)}`, { details: { file: options.serverCa }, cause: err });
    }
  }
  const log = context.log.child({ component: 'link' });
  const apply = new FileApplier({
    dataDir: options.dataDir, log,
    onApplied: (kind, name, file) => { log.info({ kind, config: name, file }, 'pushed config saved; it runs once the service is (re)started on it'); },
  });
  const client = new LinkClient({
    url: typeof options.server === 'function' ? options.server() : options.server, token, name: options.nodeName ?? hostname(), labels: options.labels,
    facts: collectFacts(context.rootfs), ca, apply, log, registry: context.registry,
  });
  client.start();
  return client;
}
