#!/usr/bin/env node
// The `opsctl` executable: runs the build in dist/, or the TypeScript sources in a checkout without one.
// Built-ins come from process.getBuiltinModule: cheaper than ESM imports for a file that runs on every command.
const { existsSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');

// Cache compiled bytecode between runs (in the OS temp dir): short commands like `opsctl ps` start faster.
module.enableCompileCache?.();

const dist = new URL('../dist/cli.js', import.meta.url);
const entry = existsSync(dist) ? dist : new URL('../src/cli.ts', import.meta.url);
const { run } = await import(entry.href);
await run(process.argv.slice(2));
