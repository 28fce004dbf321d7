// Test plugin: never returns for the message "loop" (a busy loop the worker must be killed for).
export function transform(entry) {
  if (entry.message === 'loop') for (;;) { /* spin */ }
  return entry;
}
