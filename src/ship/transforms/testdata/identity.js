// Test plugin: returns each entry as it is (overhead measurement).
export function transform(entry) {
  return entry;
}
