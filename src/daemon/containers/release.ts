import { access, rm } from 'node:fs/promises';
import { log } from '../../lib/logger.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';
import { releaseNetwork } from './network.ts';

/**
 * Tear down what a run of the container made: runtime state, rootfs mount, bundle, cgroup.
 * The bundle directory is made first at start and removed last here, so without it there is
 * nothing to release (a second call, as after an exit with AutoRemove, costs no process spawn).
 */
export async function releaseRuntime(deps: ContainerDeps, rec: ContainerRecord): Promise<void> {
  const paths = containerPaths(deps, rec.id);
  await releaseNetwork(deps, rec).catch((e: unknown) => log.warn('network release failed', { id: rec.id, error: e }));
  if (!(await access(paths.bundleDir).then(() => true, () => false))) {
    await deps.volumes?.release(rec.id);
    return;
  }
  // Independent: the runtime's state and cgroups, and the rootfs mount.
  await Promise.all([
    deps.runtime.delete(rec.id, true).catch((e: unknown) => log.warn('runtime delete failed', { id: rec.id, error: e })),
    // A busy rootfs is detached lazily, so the rm below never walks into a live mount.
    deps.host.unmount(paths.rootfs).catch((e: unknown) => {
      log.warn('unmount failed; detaching lazily', { id: rec.id, error: e });
      return deps.host.unmount(paths.rootfs, { detach: true });
    }),
  ]);
  // Volumes after the rootfs: a driver's unmount must not pull a mount from under a live rootfs.
  await deps.volumes?.release(rec.id).catch((e: unknown) => log.warn('volume release failed', { id: rec.id, error: e }));
  // Independent: the bundle (its rootfs is unmounted now) and what is left of the cgroups.
  await Promise.all([rm(paths.bundleDir, { recursive: true, force: true }), deps.host.removeCgroup(paths.cgroupsPath).catch(() => undefined)]);
}
