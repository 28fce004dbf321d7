// Test plugin: has no transform export.
export function somethingElse(entry) {
  return entry;
}
