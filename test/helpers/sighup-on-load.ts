// Preload (`node --import`) for the SIGHUP tests: the process sends itself one SIGHUP while its
// module graph loads, at the first import of a package (commander, pino...: the program's heavy
// part), before any module that imports one has run. It says so on stderr, so a test can tell the
// signal was sent.
import { writeSync } from 'node:fs';
import { registerHooks } from 'node:module';

export const sentLine = 'sighup-on-load: SIGHUP sent while loading the program';

let sent = false;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!sent && !/^(\.|\/|file:|node:|data:)/.test(specifier)) {
      sent = true;
      writeSync(2, `${sentLine} (at import '${specifier}')\n`);
      process.kill(process.pid, 'SIGHUP');
    }
    return nextResolve(specifier, context);
  },
});
