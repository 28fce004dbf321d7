// The `[probe]` section of `opsctl up`: the probe service on up's HTTP server.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ProbeServiceConfig } from './serve.ts';

export const probeSection = z.strictObject({
  enabled: z.boolean().default(false),
  /** Its probes.toml (modules, targets, alerts), relative to up's config file; its `listen` is not used. */
  config: z.string().min(1).optional(),
}).refine((p) => !p.enabled || p.config !== undefined, { message: 'probe.enabled needs probe.config (the probes.toml to run)', path: ['config'] });

/** The service's config when the section enables it. */
export function probeFromSection(section: z.output<typeof probeSection>, base: { configDir: string }): ProbeServiceConfig | undefined {
  if (!section.enabled || section.config === undefined) return undefined;
  return { file: isAbsolute(section.config) ? section.config : resolve(base.configDir, section.config) };
}
