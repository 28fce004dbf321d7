// os: node_os_info and node_os_version from os-release(5) under --path.rootfs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

const infoLabels = ['build_id', 'id', 'id_like', 'image_id', 'image_version', 'name', 'pretty_name', 'variant', 'variant_id', 'version', 'version_codename', 'version_id'] as const;

/** KEY=value pairs of an os-release text, quotes and backslash escapes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m?.[1] || m[2] === undefined) continue;
    let value = m[2];
    const q = /^(["'])(.*)\1$/.exec(value);
    if (q) value = (q[2] ?? '').replace(/\\(.)/g, '$1');
    out[m[1]] = value;
  }
  return out;
}

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
