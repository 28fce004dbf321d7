// Test plugin: for "hang", a promise that never settles; the others pass.
export function transform(entry) {
  if (entry.message === 'hang') return new Promise(() => {});
  return entry;
}
