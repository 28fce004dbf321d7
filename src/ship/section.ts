// The `[ship]` section of `opsctl up`: the log shipper in up's process.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ShipServiceConfig } from './serve.ts';

export const shipSection = z.strictObject({
  enabled: z.boolean().default(false),
  /** Its ship.toml (sources, transforms, sinks), relative to up's config file; its `listen` and `[log]` are not used. */
  config: z.string().min(1).optional(),
}).refine((p) => !p.enabled || p.config !== undefined, { message: 'ship.enabled needs ship.config (the ship.toml to run)', path: ['config'] });

/** The service's config when the section enables it. */
export function shipFromSection(section: z.output<typeof shipSection>, base: { configDir: string }): ShipServiceConfig | undefined {
  if (!section.enabled || section.config === undefined) return undefined;
  return { file: isAbsolute(section.config) ? section.config : resolve(base.configDir, section.config) };
}
