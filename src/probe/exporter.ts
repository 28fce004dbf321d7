// The probe service's HTTP routes beside core/http.ts's /metrics, /healthz and /readyz: the
// blackbox_exporter-compatible /probe and /api/v1/targets (the host serves /-/reload: core/runner.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { expositionContentType, renderSamples } from './exposition.ts';
import type { OnDemandProbe, ProbeService } from './service.ts';

/** The default module when /probe names none, as in blackbox_exporter. */
export const defaultProbeModule = 'http_2xx';
/** When Prometheus sends no scrape timeout header (blackbox_exporter's default). */
const defaultScrapeTimeoutSeconds = 120;

type Query = Record<string, string | string[] | undefined>;

/** Adds /probe and /api/v1/targets to a server made by createHttpServer (before listen); the host serves /-/reload. */
export function registerProbeRoutes(app: FastifyInstance, service: ProbeService): void {
  app.get('/probe', (req, reply) => probeRoute(service, req, reply));
  app.get('/api/v1/targets', async (_req, reply) => reply.send({ targets: service.status() }));
}

async function probeRoute(service: ProbeService, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const query = req.query as Query;
  const target = first(query.target);
  const moduleName = first(query.module) ?? defaultProbeModule;
  const text = (code: number, body: string): FastifyReply => reply.code(code).type('text/plain; charset=utf-8').send(`${body}\n`);
  if (!Object.hasOwn(service.config.modules, moduleName)) {
    return text(400, `Unknown module "${moduleName}" (modules: ${Object.keys(service.config.modules).sort().join(', ')})`);
  }
  if (target === undefined || target === '') return text(400, 'Target parameter is missing');
  const timeoutMs = scrapeTimeoutMs(req.headers['x-prometheus-scrape-timeout-seconds'], service.config.timeout_offset);
  if (timeoutMs === undefined) return text(400, 'Failed to parse timeout from Prometheus header X-Prometheus-Scrape-Timeout-Seconds');
  const debug = first(query.debug) === 'true';

  // A scraper that hangs up (its own timeout) cancels the probe.
  const gone = new AbortController();
  const onClose = (): void => { if (!reply.raw.writableFinished) gone.abort(new Error('client closed the connection')); };
  reply.raw.once('close', onClose);
  let probe: OnDemandProbe | undefined;
  try {
    probe = await service.probe(target, moduleName, { timeoutMs, debug, signal: gone.signal });
  } finally {
    reply.raw.off('close', onClose);
  }
  if (probe === undefined) return text(400, `Unknown module "${moduleName}"`);
  const metrics = renderSamples(probe.samples);
  if (!debug) return reply.type(expositionContentType).send(metrics);
  return reply.type('text/plain; charset=utf-8').send(debugOutput(probe, metrics, Math.min(probe.module.timeout, timeoutMs)));
}

/**
 * The probe's timeout from Prometheus' scrape timeout header minus the offset, as blackbox_exporter
 * computes it (the module's own timeout, when shorter, is applied by the service): 120 s without
 * the header, Infinity (the module's timeout) when the offset leaves nothing, undefined for a bad header.
 */
export function scrapeTimeoutMs(header: string | string[] | undefined, offsetMs: number): number | undefined {
  const raw = first(header);
  let seconds = defaultScrapeTimeoutSeconds;
  if (raw !== undefined && raw !== '') {
    seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds < 0) return undefined;
    if (seconds === 0) seconds = defaultScrapeTimeoutSeconds;
  }
  const ms = seconds * 1000 - offsetMs;
  return ms > 0 ? ms : Infinity;
}

/** blackbox_exporter's debug page: the probe's log, the metrics it would have returned, the module. */
function debugOutput(probe: OnDemandProbe, metrics: string, timeoutMs: number): string {
  const { result, module } = probe;
  const log = [
    `+0.0000s info beginning probe module=${JSON.stringify(result.module)} prober=${module.prober} target=${JSON.stringify(result.target)} timeout_seconds=${timeoutMs / 1000}`,
    ...(result.log ?? []),
  ];
  const { prober, timeout, conditions, ...settings } = module;
  const shown = { prober, timeout: `${timeout}ms`, conditions, ...settings };
  const config = JSON.stringify(shown, (_k, v: unknown) => (v instanceof RegExp ? v.toString() : isExpr(v) ? v.source : v), 2);
  return `Logs for the probe:\n${log.join('\n')}\n\n\n\nMetrics that would have been returned:\n${metrics}\n\n\nModule configuration:\n${config}\n`;
}

function isExpr(v: unknown): v is { source: string } {
  return typeof v === 'object' && v !== null && 'source' in v && 'test' in v && typeof v.source === 'string';
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
