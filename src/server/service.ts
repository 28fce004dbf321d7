// The control plane as a service (core/service.ts): `opsctl server` alone, or `[server]` in
// `opsctl up`. Opens the store, serves /api/v1 (auth, rate limits, audit) and the agent link, and
// is ready only while the store answers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSecretName } from './default-key.ts';
import type { ServiceDefinition } from '../core/service.ts';
import { OpsError } from '../core/errors.ts';
import { openStore, parseStoreUrl, type Store } from '../store/index.ts';
import { registerApi } from './api.ts';
import { AuditLog } from './audit.ts';
import { createAuthenticator, createRateLimiter, loadAuth } from './authn.ts';
import { clientKey, ConnectionLimiter } from './rate-limit.ts';
import { nodesView, rolloutView } from './views.ts';
import { LinkHub } from '../link/hub.ts';
import { parseSelector } from '../link/selector.ts';
import type { ServerServiceConfig } from './section.ts';

/** How often the store's health is checked for /readyz. */
const healthIntervalMs = 5000;

function readPassword(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new OpsError('OPS_ERR_STORE_URL', `store_password_file ${file}: ${err instanceof Error ? err.message : String(err)}`, { details: { file }, cause: err });
  }
}

async function open(config: ServerServiceConfig): Promise<Store> {
  const tls = config.store_tls;
  const hasTls = tls.ca_file !== undefined || tls.cert_file !== undefined || tls.key_file !== undefined;
  return openStore(config.store, {
    dataDir: config.data_dir,
    ...(hasTls && { tls: { ...(tls.ca_file !== undefined && { caFile: tls.ca_file }), ...(tls.cert_file !== undefined && { certFile: tls.cert_file }), ...(tls.key_file !== undefined && { keyFile: tls.key_file }) } }),
    ...(config.store_username !== undefined && { username: config.store_username, password: readPassword(config.store_password_file) }),
  });
}

export const serverService: ServiceDefinition<ServerServiceConfig> = {
  async check(config) {
    parseStoreUrl(config.store, config.data_dir);
    // No key configured and none created yet: the first start creates it, nothing to check.
    const firstStart = config.auth.secret_file === undefined && config.auth.jwks_file === undefined && !existsSync(join(config.data_dir, defaultSecretName));
    if (!firstStart) await loadAuth(config.auth, config.data_dir, { create: false });
  },
  async create(config, ctx) {
    const { log, registry } = ctx;
    const auth = await loadAuth(config.auth, config.data_dir, { create: true, log });
    const store = await open(config);
    const authenticator = createAuthenticator(auth.verifier);
    const hub = new LinkHub({
      store, replica: config.replica, log: log.child({ part: 'link' }), registry,
      heartbeatSeconds: Math.max(1, Math.round(config.heartbeat / 1000)), maxMessageBytes: config.limits.message_bytes,
      maxConnectionsPerIp: config.limits.links_per_client,
    });
    const audit = new AuditLog({ store, log, registry, retentionMs: config.audit.retention });
    let healthy = true;
    let healthTimer: NodeJS.Timeout | undefined;
    const checkHealth = async (): Promise<void> => {
      const h = await store.health();
      if (h.ok !== healthy) log[h.ok ? 'info' : 'error'](h.ok ? {} : { err: h.error }, h.ok ? 'store reachable again' : 'store unreachable: not ready, writes answer 503');
      healthy = h.ok;
    };
    return {
      routes(app) {
        // Open connections per client address (HTTP keep-alive and agent links alike), per replica.
        new ConnectionLimiter({ maxPerClient: config.rate_limit.max_connections_per_client }).attach(app.server);
        void registerApi(app, {
          store, audit, log, auth: authenticator, limiter: createRateLimiter(config.rate_limit), clientKey,
          bodyLimit: config.limits.body_bytes, nodes: nodesView(store, log), rollouts: rolloutView(store, log),
          checkSelector: (text) => { parseSelector(text); },
        });
        // The link authenticates like the API; the hub checks the `agent` scope itself.
        hub.register(app, async (req) => {
          const p = await authenticator.authenticate(req.headers.authorization, 'agent');
          return { subject: p.subject, scopes: [...p.scopes] };
        });
      },
      endpoints: ['/api/v1/openapi.json', '/api/v1/nodes', '/api/v1/configs', '/api/v1/audit', '/api/v1/link'],
      async start() {
        await checkHealth();
        healthTimer = setInterval(() => void checkHealth(), healthIntervalMs);
        healthTimer.unref();
        audit.start();
        await hub.start();
        log.info({ store: config.store, replica: config.replica, auth: auth.describe() }, 'control plane started');
      },
      async stop() {
        clearInterval(healthTimer);
        await hub.stop(); // agents reconnect, to another replica if there is one
        await audit.stop();
        await store.close();
      },
      notReady: () => [...(healthy ? [] : ['server store']), ...hub.notReady()],
    };
  },
};
