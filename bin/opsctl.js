#!/usr/bin/env -S node --max-semi-space-size=8
// V8's young generation may otherwise grow to 3 x 32 MiB under a high allocation rate (opsctl ship
// at full speed): 8 MiB semi-spaces keep the shipper's peak RSS ~40 MB lower at the same
// throughput (docs/benchmarks.md). `node [flags] bin/opsctl.js` runs without this default.
// The `opsctl` executable: runs the build in dist/, or the TypeScript sources in a checkout without one.
// Built-ins come from process.getBuiltinModule: cheaper than ESM imports for a file that runs on every command.
const { existsSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');

// Cache compiled bytecode between runs (in the OS temp dir): short commands like `opsctl ps` start faster.
module.enableCompileCache?.();

// cli.js is thin: it imports only core/sighup.js, holds SIGHUP for the commands that reload, then
// loads the program. Keep this file free of imports too, so that SIGHUP is held early.
const dist = new URL('../dist/cli.js', import.meta.url);
const entry = existsSync(dist) ? dist : new URL('../src/cli.ts', import.meta.url);
const { run } = await import(entry.href);
await run(process.argv.slice(2));
