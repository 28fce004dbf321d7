// The probe config: modules (a prober plus its settings) and targets, as blackbox_exporter users
// know them. Module schemas come from the probers map, so a new prober needs no change here.
import { z } from 'zod';
import { duration } from '../core/config.ts';
import { compile, type Expr } from '../core/expr.ts';
import { isOpsError } from '../core/errors.ts';
import { proberNames, probers, type ProberName } from './probers/index.ts';

/** A condition compiled at load time: a bad one is a config error naming file, line and key. */
export const condition = z.string().transform((source, ctx): Expr => {
  try {
    return compile(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: isOpsError(err) ? err.message : String(err) });
    return z.NEVER;
  }
});

const common = {
  timeout: duration().prefault('5s'),
  conditions: z.array(condition).default([]),
};

/** One module: `prober = "http"`, the common keys, and the prober's own keys, strictly. */
export const moduleSchema = z.discriminatedUnion('prober', [
  probers.http.schema.extend({ prober: z.literal('http'), ...common }),
  probers.tcp.schema.extend({ prober: z.literal('tcp'), ...common }),
  probers.icmp.schema.extend({ prober: z.literal('icmp'), ...common }),
  probers.dns.schema.extend({ prober: z.literal('dns'), ...common }),
  probers.tls.schema.extend({ prober: z.literal('tls'), ...common }),
  probers.grpc.schema.extend({ prober: z.literal('grpc'), ...common }),
]);
export type ModuleConfig = z.output<typeof moduleSchema>;

// Keep the union above in step with the map: a prober missing from it is a type error here.
const _allListed: Record<ProberName, true> = { http: true, tcp: true, icmp: true, dns: true, tls: true, grpc: true };
void _allListed;
void proberNames;

/** Splits a module into the common keys and the prober's own settings. */
export function splitModule(m: ModuleConfig): { prober: ProberName; timeoutMs: number; conditions: Expr[]; settings: Record<string, unknown> } {
  const { prober, timeout, conditions, ...settings } = m;
  return { prober, timeoutMs: timeout, conditions, settings };
}
