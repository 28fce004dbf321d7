// Test plugin: one entry per word; "drop" gives null, "none" an empty array, "undef" undefined.
export function transform(entry) {
  if (entry.message === 'drop') return null;
  if (entry.message === 'none') return [];
  if (entry.message === 'undef') return undefined;
  return entry.message.split(' ').map((word) => ({ message: word }));
}
