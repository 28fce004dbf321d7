#!/usr/bin/env node
// The `opsctl` executable: runs the build in dist/, or the TypeScript sources in a checkout without one.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Cache compiled bytecode between runs (in the OS temp dir): short commands like `opsctl ps` start faster.
module.enableCompileCache?.();

const dist = new URL('../dist/cli.js', import.meta.url);
const entry = existsSync(dist) ? dist : new URL('../src/cli.ts', import.meta.url);
const { run } = await import(entry.href);
await run(process.argv.slice(2));
