// pressure: node_pressure_* from /proc/pressure (PSI); nothing when the kernel has no PSI.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../core/errors.ts';
import { single, type CollectorDefinition, type MetricFamily } from '../types.ts';

const resources = {
  cpu: 'CPU time',
  io: 'I/O',
  memory: 'memory',
} as const;

/** The `total=` microseconds of the "some" and "full" lines of one /proc/pressure file. */
export function parsePressure(text: string): { some?: number; full?: number } {
  const out: { some?: number; full?: number } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s.*\btotal=(\d+)/.exec(line);
    if (m?.[1] === 'some' || m?.[1] === 'full') out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The families of one resource: waiting from "some", stalled from "full", in seconds. */
export function pressureFamilies(resource: keyof typeof resources, p: { some?: number; full?: number }): MetricFamily[] {
  const what = resources[resource];
  const out: MetricFamily[] = [];
  if (p.some !== undefined) out.push(single(`node_pressure_${resource}_waiting_seconds_total`, `Total time in seconds that processes have waited for ${what}`, 'counter', p.some / 1e6));
  if (p.full !== undefined) out.push(single(`node_pressure_${resource}_stalled_seconds_total`, `Total time in seconds no process could make progress due to ${what}`, 'counter', p.full / 1e6));
  return out;
}

export const pressure = {
  name: 'pressure',
  defaultEnabled: true,
  create: (ctx) => ({
    async collect() {
      const out: MetricFamily[] = [];
      for (const resource of Object.keys(resources) as Array<keyof typeof resources>) {
        let text: string;
        try {
          text = await readFile(join(ctx.procfs, 'pressure', resource), 'utf8');
        } catch (err) {
          // No PSI in this kernel (or disabled with psi=0): an expected outcome, not a failure.
          if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EOPNOTSUPP') continue;
          throw err;
        }
        out.push(...pressureFamilies(resource, parsePressure(text)));
      }
      return out;
    },
  }),
} satisfies CollectorDefinition;
