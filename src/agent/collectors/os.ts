// os: node_os_info and node_os_version from os-release(5) under --path.rootfs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseOsRelease } from '../../core/os-release.ts';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

const infoLabels = ['build_id', 'id', 'id_like', 'image_id', 'image_version', 'name', 'pretty_name', 'variant', 'variant_id', 'version', 'version_codename', 'version_id'] as const;

export { parseOsRelease } from '../../core/os-release.ts';

/** node_os_info (labels as node_exporter's) and, when VERSION_ID is a number, node_os_version. */
export function osFamilies(release: Readonly<Record<string, string>>): MetricFamily[] {
  const labels = Object.fromEntries(infoLabels.map((l) => [l, release[l.toUpperCase()] ?? '']));
  const out: MetricFamily[] = [{ name: 'node_os_info', help: 'A metric with a constant \'1\' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.', type: 'gauge', samples: [{ labels, value: 1 }] }];
  const version = parseFloat(release.VERSION_ID ?? '');
  if (!Number.isNaN(version)) {
    out.push({ name: 'node_os_version', help: 'Metric containing the major.minor part of the OS version.', type: 'gauge', samples: [{ labels: { id: labels.id ?? '', id_like: labels.id_like ?? '', name: labels.name ?? '' }, value: version }] });
  }
  return out;
}

export const os = {
  name: 'os',
  defaultEnabled: true,
  create: (ctx) => ({
    async collect() {
      let text: string;
      try {
        text = await readFile(join(ctx.rootfs, 'etc/os-release'), 'utf8');
      } catch {
        text = await readFile(join(ctx.rootfs, 'usr/lib/os-release'), 'utf8');
      }
      return osFamilies(parseOsRelease(text));
    },
  }),
} satisfies CollectorDefinition;
