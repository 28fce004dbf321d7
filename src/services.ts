// Every long-running service, by its section in `opsctl up`'s config, in the order up starts them.
// A service is a folder with a section schema (light: loaded for every config) and a definition
// (core/service.ts) loaded only when the section enables it, so `up` with only [probe] never loads
// the shipper. Adding a service: its folder, and one line here.
import type { z } from 'zod';
import { agentConfigSchema, agentOptions } from './agent/config.ts';
import type { ServiceDefinition } from './core/service.ts';
import { oomConfigSchema, oomFromSection } from './proc/oom/config.ts';
import { probeFromSection, probeSection } from './probe/section.ts';
import { serverFromSection, serverSection } from './server/section.ts';
import { shipFromSection, shipSection } from './ship/section.ts';

/** A service as `opsctl up` sees it. */
export interface ServiceEntry<S extends z.ZodType, C> {
  /** Its section of up's config (with its defaults when absent). */
  section: S;
  /** The service's config from its section, or undefined when the section does not enable it. */
  fromSection(value: z.output<S>, base: { configDir: string }): C | undefined;
  /** Its definition, imported only when enabled. */
  load(): Promise<ServiceDefinition<C>>;
}

const entry = <S extends z.ZodType, C>(e: ServiceEntry<S, C>): ServiceEntry<S, C> => e;

export const services = {
  // First: an agent of the same process links to it once it is up.
  server: entry({ section: serverSection.prefault({}), fromSection: serverFromSection, load: async () => (await import('./server/service.ts')).serverService }),
  oom: entry({ section: oomConfigSchema.prefault({}), fromSection: oomFromSection, load: async () => (await import('./proc/oom/service.ts')).oomService }),
  agent: entry({ section: agentConfigSchema.prefault({}), fromSection: (c, base) => (c.enabled ? agentOptions(c, base) : undefined), load: async () => (await import('./agent/run.ts')).agentService }),
  probe: entry({ section: probeSection.prefault({}), fromSection: probeFromSection, load: async () => (await import('./probe/serve.ts')).probeService }),
  ship: entry({ section: shipSection.prefault({}), fromSection: shipFromSection, load: async () => (await import('./ship/serve.ts')).shipService }),
};

export type ServiceName = keyof typeof services;
