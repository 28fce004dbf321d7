#!/usr/bin/env node
// The `opsctl` executable: runs the build in dist/, or the TypeScript sources in a checkout without one.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
const entry = existsSync(dist) ? dist : new URL('../src/cli.ts', import.meta.url);
const { run } = await import(entry.href);
await run(process.argv.slice(2));
