// Test plugin: upper-cases the message and tags the entry (TypeScript, types stripped by Node).
interface Entry { message: string; fields: Record<string, unknown> }

export function transform(entry: Entry): Entry {
  return { ...entry, message: entry.message.toUpperCase(), fields: { ...entry.fields, plugin: 'upper' } };
}
