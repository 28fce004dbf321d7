// filesystem: node_filesystem_* from statfs(2) of each mount, with node_exporter's default excludes.
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition, MetricFamily } from '../types.ts';

/** node_exporter's default --collector.filesystem.mount-points-exclude. */
export const defaultMountPointsExclude = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
/** node_exporter's default --collector.filesystem.fs-types-exclude: pseudo and read-only image filesystems. */
export const defaultFsTypesExclude = /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/;

/** One line of a mounts file. */
export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
  readonly: boolean;
}

// The kernel writes space, tab, newline and backslash in mount fields as octal escapes.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The mounts of a /proc/<pid>/mounts text that the excludes keep. */
export function parseMounts(text: string, mountPointsExclude = defaultMountPointsExclude, fsTypesExclude = defaultFsTypesExclude): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [device, mountpoint, fstype, options] = line.split(' ');
    if (device === undefined || mountpoint === undefined || fstype === undefined || options === undefined) continue;
    const m = { device: unescape(device), mountpoint: unescape(mountpoint), fstype, readonly: options.split(',').includes('ro') };
    if (mountPointsExclude.test(m.mountpoint) || fsTypesExclude.test(m.fstype)) continue;
    out.push(m);
  }
  return out;
}

/** statfs(2) numbers of one mount, or an error. */
export type FsStats = { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number } | Error;

/** The node_filesystem_* families from mounts and their statfs results (an Error sets device_error 1). */
export function filesystemFamilies(mounts: ReadonlyArray<{ mount: Mount; stats: FsStats }>): MetricFamily[] {
  const fam = (name: string, help: string): MetricFamily => ({ name, help, type: 'gauge', samples: [] });
  const size = fam('node_filesystem_size_bytes', 'Filesystem size in bytes.');
  const free = fam('node_filesystem_free_bytes', 'Filesystem free space in bytes.');
  const avail = fam('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.');
  const files = fam('node_filesystem_files', 'Filesystem total file nodes.');
  const filesFree = fam('node_filesystem_files_free', 'Filesystem total free file nodes.');
  const readonly = fam('node_filesystem_readonly', 'Filesystem read-only status.');
  const deviceError = fam('node_filesystem_device_error', 'Whether an error occurred while getting statistics for the given device.');
  for (const { mount, stats } of mounts) {
    const labels = { device: mount.device, fstype: mount.fstype, mountpoint: mount.mountpoint };
    deviceError.samples.push({ labels, value: stats instanceof Error ? 1 : 0 });
    if (stats instanceof Error) continue;
    size.samples.push({ labels, value: stats.blocks * stats.bsize });
    free.samples.push({ labels, value: stats.bfree * stats.bsize });
    avail.samples.push({ labels, value: stats.bavail * stats.bsize });
    files.samples.push({ labels, value: stats.files });
    filesFree.samples.push({ labels, value: stats.ffree });
    readonly.samples.push({ labels, value: mount.readonly ? 1 : 0 });
  }
  return [size, free, avail, files, filesFree, readonly, deviceError];
}

/** The mountpoint as seen from inside `rootfs` ("/" when rootfs is "/"). */
export function stripRootfs(rootfs: string, path: string): string {
  if (rootfs === '/' || rootfs === '') return path;
  const root = rootfs.replace(/\/+$/, '');
  if (path === root) return '/';
  return path.startsWith(`${root}/`) ? path.slice(root.length) : path;
}

async function readMounts(procfs: string): Promise<string> {
  try {
    return await readFile(join(procfs, '1/mounts'), 'utf8');
  } catch {
    return readFile(join(procfs, 'self/mounts'), 'utf8');
  }
}

/** How long one statfs(2) may take before its mount counts as failed (node_exporter's --collector.filesystem.mount-timeout). */
export const statfsTimeoutMs = 5000;

export const filesystem = {
  name: 'filesystem',
  defaultEnabled: true,
  create: (ctx) => {
    // A hung network mount blocks statfs in a libuv thread: it is not asked again until that call returns.
    const stuck = new Set<string>();
    const statfsOnce = (path: string): Promise<FsStats> => {
      if (stuck.has(path)) return Promise.resolve(new Error('statfs still pending from an earlier scrape'));
      const call = statfs(path).then((s): FsStats => s, (err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<FsStats>((resolve) => {
        timer = setTimeout(() => {
          stuck.add(path);
          void call.finally(() => stuck.delete(path));
          resolve(new Error(`statfs timed out after ${statfsTimeoutMs}ms`));
        }, statfsTimeoutMs);
        timer.unref();
      });
      return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
    };
    return {
      async collect() {
        const mounts = parseMounts(await readMounts(ctx.procfs))
          .map((m) => ({ ...m, mountpoint: stripRootfs(ctx.rootfs, m.mountpoint), path: join(ctx.rootfs, m.mountpoint) }));
        const stats = await Promise.all(mounts.map(async ({ path, ...mount }) => {
          const result = await statfsOnce(path);
          if (result instanceof Error) ctx.log.debug({ mountpoint: mount.mountpoint, err: result }, 'statfs failed');
          return { mount, stats: result };
        }));
        return filesystemFamilies(stats);
      },
    };
  },
} satisfies CollectorDefinition;
