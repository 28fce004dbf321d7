// Test plugin: async; resolves after a tick with a field added.
import { setTimeout as sleep } from 'node:timers/promises';

export async function transform(entry: { message: string; fields: Record<string, unknown> }): Promise<unknown> {
  await sleep(1);
  return { ...entry, fields: { ...entry.fields, async: true } };
}
