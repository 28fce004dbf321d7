// Test plugin: ends its thread for the message "exit" (a crashing worker).
export function transform(entry) {
  if (entry.message === 'exit') process.exit(3);
  return entry;
}
