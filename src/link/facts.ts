// The facts an agent reports in hello: hostname, OS (os-release PRETTY_NAME), kernel, arch, CPUs,
// memory and its own version. The parser is pure; the root is injectable (--path.rootfs).
import { readFileSync } from 'node:fs';
import { arch, availableParallelism, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseOsRelease } from '../core/os-release.ts';
import { versionInfo } from '../core/version.ts';
import type { NodeFacts } from './records.ts';

export { parseOsRelease } from '../core/os-release.ts';

/** This host's facts; os-release is read under `rootfs` (/etc/os-release, then /usr/lib/os-release). */
export function collectFacts(rootfs = '/'): NodeFacts {
  let os = `${process.platform}`;
  for (const file of ['etc/os-release', 'usr/lib/os-release']) {
    try {
      const fields = parseOsRelease(readFileSync(join(rootfs, file), 'utf8'));
      os = fields.PRETTY_NAME ?? fields.NAME ?? os;
      break;
    } catch {
      // try the next one
    }
  }
  return {
    hostname: hostname(), os, kernel: release(), arch: arch(), cpus: availableParallelism(), memoryBytes: totalmem(),
    agentVersion: versionInfo().version,
  };
}
