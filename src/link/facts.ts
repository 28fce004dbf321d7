// The facts an agent reports in hello: hostname, OS (os-release PRETTY_NAME), kernel, arch, CPUs,
// memory and its own version. The parser is pure; the root is injectable (--path.rootfs).
import { readFileSync } from 'node:fs';
import { arch, availableParallelism, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { versionInfo } from '../core/version.ts';
import type { NodeFacts } from './records.ts';

/** The fields of an os-release file (shell-style KEY=value lines, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1] || m[2] === undefined) continue;
    let value = m[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["$`\\])/g, '$1');
    }
    out[m[1]] = value;
  }
  return out;
}

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
