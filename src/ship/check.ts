// --check-config beyond the schema: creates every transform (plugins load, in their worker) and
// closes it again; sources and sinks are not created, so nothing is opened, read or sent.
import { dirname, resolve } from 'node:path';
import { silentLogger } from '../core/log.ts';
import { createRegistry } from '../core/metrics.ts';
import type { ShipConfig } from './config.ts';
import { ShipMetrics } from './metrics.ts';
import { transforms } from './transforms/index.ts';
import type { Definition, Transform } from './types.ts';

export async function checkPipeline(file: string, config: ShipConfig): Promise<void> {
  const metrics = new ShipMetrics(createRegistry({ runtime: false }));
  const log = silentLogger();
  for (const [name, cfg] of Object.entries(config.transforms)) {
    const def = transforms[cfg.type as keyof typeof transforms] as unknown as Definition<never, Transform>;
    const t = await def.create(cfg as never, {
      name, log, counters: metrics.component('transform', name), metrics, dataDir: resolve(dirname(file), config.data_dir),
      configDir: dirname(resolve(file)), deadLetter: { write: () => undefined },
    });
    await t.close?.();
  }
}
