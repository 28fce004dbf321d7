// Test plugin: fails while loading.
throw new Error('boom while loading');
