// uname: node_uname_info from /proc/sys/kernel (what uname(2) returns) and the machine type.
import { readFile } from 'node:fs/promises';
import { machine } from 'node:os';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/** The uname fields node_exporter labels node_uname_info with. */
export interface UnameFields {
  sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string;
}

/** node_uname_info with its labels. */
export function unameFamily(u: UnameFields): MetricFamily {
  return {
    name: 'node_uname_info', help: 'Labeled system information as provided by the uname system call.', type: 'gauge',
    samples: [{ labels: { domainname: u.domainname, machine: u.machine, nodename: u.nodename, release: u.release, sysname: u.sysname, version: u.version }, value: 1 }],
  };
}

export const uname = {
  name: 'uname',
  defaultEnabled: true,
  create: (ctx) => ({
    async collect() {
      const read = async (file: string): Promise<string> => (await readFile(join(ctx.procfs, 'sys/kernel', file), 'utf8')).trim();
      const [sysname, nodename, release, version, domainname] = await Promise.all(
        ['ostype', 'hostname', 'osrelease', 'version', 'domainname'].map(read));
      return [unameFamily({
        sysname: sysname ?? '', nodename: nodename ?? '', release: release ?? '', version: version ?? '',
        machine: machine(), domainname: domainname ?? '',
      })];
    },
  }),
} satisfies CollectorDefinition;
