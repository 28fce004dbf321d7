// The probe tool's public face: what `opsctl up` and other tools may use from src/probe.
export { registerProbeRoutes, scrapeTimeoutMs } from './exporter.ts';
export { probeService, serveProbes, type ProbeServiceConfig, type ServeProbesOptions } from './serve.ts';
export { ProbeService, type ProbeServiceOptions } from './service.ts';
export { loadServiceConfig, serviceConfigSchema, type ScheduledTarget, type ServiceConfig } from './service-config.ts';
export { parseTarget, type ParsedTarget } from './target-url.ts';
export type { ProbeResult, Prober } from './types.ts';
