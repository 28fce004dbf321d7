// The icmp prober (placeholder until implemented).
import { z } from 'zod';
import type { Prober } from '../types.ts';

const schema = z.strictObject({});

export const icmp = {
  schema,
  probe() {
    return Promise.resolve({ success: false, reason: 'icmp prober not implemented yet', phases: {}, details: {} });
  },
  metrics: () => [],
} satisfies Prober<typeof schema>;
