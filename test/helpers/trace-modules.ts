// Preload (`node --import`) that lists every module the process loads: at exit, the file URLs of
// the project's own modules go to the file named by TRACE_MODULES_TO, one per line.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.TRACE_MODULES_TO;
const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:') && !url.includes('/node_modules/')) loaded.add(url);
    return nextLoad(url, context);
  },
});
if (out !== undefined) process.on('exit', () => { writeFileSync(out, [...loaded].join('\n') + '\n'); });
