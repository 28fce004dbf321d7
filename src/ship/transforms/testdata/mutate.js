// Test plugin: changes its argument in place, as plugins often do.
export function transform(entry) {
  entry.fields.touched = true;
  entry.message = 'changed';
  return entry;
}
