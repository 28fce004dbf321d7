// Test plugin: returns things that are not entries, depending on the message.
export function transform(entry) {
  if (entry.message === 'number') return { message: 42 };
  if (entry.message === 'string') return 'just text';
  if (entry.message === 'fields') return { message: 'x', fields: [1, 2] };
  if (entry.message === 'function') return { message: 'x', fields: { f: () => 1 } };
  if (entry.message === 'level') return { message: 'x', level: 'LOUD' };
  return { message: entry.message.toUpperCase(), level: 'ERROR' };
}
