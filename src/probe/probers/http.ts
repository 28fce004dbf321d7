// The http prober (placeholder until implemented).
import { z } from 'zod';
import type { Prober } from '../types.ts';

const schema = z.strictObject({});

export const http = {
  schema,
  probe() {
    return Promise.resolve({ success: false, reason: 'http prober not implemented yet', phases: {}, details: {} });
  },
  metrics: () => [],
} satisfies Prober<typeof schema>;
