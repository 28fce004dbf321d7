// Labels derived from a cgroup path: systemd unit and slice, container id and runtime, Kubernetes pod uid.

export interface CgroupLabels {
  /** systemd unit ("nginx.service", "session-3.scope"). */
  unit?: string;
  /** Innermost systemd slice ("system.slice"). */
  slice?: string;
  /** Full 64-hex container id. */
  container?: string;
  /** Container runtime: docker, containerd, cri-o or podman, when the path tells. */
  runtime?: string;
  /** Kubernetes pod uid, with dashes. */
  pod?: string;
}

const unitSuffix = /\.(service|scope|socket|mount|swap|timer|path|target)$/;
const runtimePrefixes: ReadonlyArray<[RegExp, string]> = [
  [/^docker-([0-9a-f]{64})\.scope$/, 'docker'],
  [/^cri-containerd-([0-9a-f]{64})\.scope$/, 'containerd'],
  [/^crio-(?:conmon-)?([0-9a-f]{64})\.scope$/, 'cri-o'],
  [/^libpod-(?:conmon-)?([0-9a-f]{64})(?:\.scope)?$/, 'podman'],
];
const podSegment = /^(?:kubepods(?:-[a-z]+)?-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;
const bareId = /^([0-9a-f]{64})$/;

/**
 * Reads labels from a cgroup path, for both the systemd and the cgroupfs drivers:
 * `/system.slice/docker-<id>.scope`, `/docker/<id>`, `/kubepods/burstable/pod<uid>/<id>`,
 * `/kubepods.slice/.../kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope`,
 * `/machine.slice/libpod-<id>.scope`, `/system.slice/nginx.service`.
 * @example cgroupLabels('/system.slice/nginx.service') // { unit: 'nginx.service', slice: 'system.slice' }
 */
export function cgroupLabels(path: string): CgroupLabels {
  const labels: CgroupLabels = {};
  const segments = path.split('/').filter(Boolean);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg.endsWith('.slice') && !podSegment.test(seg)) labels.slice = seg;
    const pod = podSegment.exec(seg);
    if (pod) { labels.pod = (pod[1] as string).replaceAll('_', '-'); continue; }
    let matched = false;
    for (const [re, runtime] of runtimePrefixes) {
      const m = re.exec(seg);
      if (m) { labels.container = m[1]; labels.runtime = runtime; matched = true; break; }
    }
    if (matched) continue;
    const id = bareId.exec(seg);
    if (id && i > 0) {
      labels.container = id[1];
      const parent = segments[i - 1] as string;
      if (parent === 'docker') labels.runtime = 'docker';
      else if (parent === 'libpod_parent') labels.runtime = 'podman';
      else if (parent === 'k8s.io' || parent === 'moby') labels.runtime = parent === 'moby' ? 'docker' : 'containerd';
      continue;
    }
    if (unitSuffix.test(seg)) labels.unit = seg;
  }
  return labels;
}
