import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupLabels } from './labels.ts';

const id = 'a'.repeat(56) + '0123abcd';

test('systemd units and slices', () => {
  assert.deepEqual(cgroupLabels('/system.slice/nginx.service'), { slice: 'system.slice', unit: 'nginx.service' });
  assert.deepEqual(cgroupLabels('/user.slice/user-1000.slice/session-2.scope'), { slice: 'user-1000.slice', unit: 'session-2.scope' });
  assert.deepEqual(cgroupLabels('/'), {});
});

test('docker with the systemd and the cgroupfs driver', () => {
  assert.deepEqual(cgroupLabels(`/system.slice/docker-${id}.scope`), { slice: 'system.slice', container: id, runtime: 'docker' });
  assert.deepEqual(cgroupLabels(`/docker/${id}`), { container: id, runtime: 'docker' });
});

test('Kubernetes pods with containerd, cri-o and the cgroupfs driver', () => {
  const uid = '0f4ad3e4-3c5b-4b7e-9d1a-1234567890ab';
  assert.deepEqual(
    cgroupLabels(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${id}.scope`),
    { slice: 'kubepods-burstable.slice', pod: uid, container: id, runtime: 'containerd' },
  );
  assert.deepEqual(cgroupLabels(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice/crio-${id}.scope`).runtime, 'cri-o');
  assert.deepEqual(cgroupLabels(`/kubepods/burstable/pod${uid}/${id}`), { pod: uid, container: id });
});

test('podman', () => {
  assert.deepEqual(cgroupLabels(`/machine.slice/libpod-${id}.scope`), { slice: 'machine.slice', container: id, runtime: 'podman' });
  assert.deepEqual(cgroupLabels(`/libpod_parent/libpod-${id}`), { container: id, runtime: 'podman' });
});

test('a short hex segment is not a container', () => {
  assert.deepEqual(cgroupLabels('/process_api/80c3d11d857ef5a67787b172ec268e27'), {});
});
