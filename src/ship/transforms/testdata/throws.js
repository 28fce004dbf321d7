// Test plugin: throws for messages containing "bad", passes the others through.
export function transform(entry) {
  if (entry.message.includes('bad')) throw new Error('cannot handle this one');
  return entry;
}
