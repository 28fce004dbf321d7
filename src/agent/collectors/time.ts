// time: node_time_seconds, the system clock at the scrape.
import { single, type CollectorDefinition } from '../types.ts';

export const time = {
  name: 'time',
  defaultEnabled: true,
  create: () => ({ collect: () => [single('node_time_seconds', 'System time in seconds since epoch (1970).', 'gauge', Date.now() / 1000)] }),
} satisfies CollectorDefinition;
