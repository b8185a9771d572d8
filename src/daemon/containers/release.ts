import { access, rm } from 'node:fs/promises';
import { log } from '../../lib/logger.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';
import { releaseNetwork } from './network.ts';

/**
 * Tear down what a run of the container made: runtime state, rootfs mount, bundle, cgroup.
 * The bundle directory is made first at start and removed last here, so without it there is
 * nothing to release (a second call, as after an exit with AutoRemove, costs no process spawn).
 *
 * Each step waits only for what it depends on (this is on the `run --rm` path): the runtime's
 * state, then what is left of its cgroups; the rootfs mount, then the volumes mounted for it,
 * then `afterUnmount` (a removal's container layer); the bundle once both the runtime and the
 * mount are gone. Resolves when all of it is done.
 */
export async function releaseRuntime(deps: ContainerDeps, rec: ContainerRecord, opts: { afterUnmount?: () => Promise<unknown> } = {}): Promise<void> {
  const paths = containerPaths(deps, rec.id);
  const network = releaseNetwork(deps, rec).catch((e: unknown) => log.warn('network release failed', { id: rec.id, error: e }));
  if (!(await access(paths.bundleDir).then(() => true, () => false))) {
    await network;
    await deps.volumes?.release(rec.id);
    await opts.afterUnmount?.();
    return;
  }
  const runtimeGone = deps.runtime.delete(rec.id, true).catch((e: unknown) => log.warn('runtime delete failed', { id: rec.id, error: e }));
  // A busy rootfs is detached lazily, so the rm below never walks into a live mount.
  const rootfsGone = deps.host.unmount(paths.rootfs).catch((e: unknown) => {
    log.warn('unmount failed; detaching lazily', { id: rec.id, error: e });
    return deps.host.unmount(paths.rootfs, { detach: true });
  });
  // Volumes after the rootfs: a driver's unmount must not pull a mount from under a live rootfs.
  const volumesGone = rootfsGone.then(() => deps.volumes?.release(rec.id).catch((e: unknown) => log.warn('volume release failed', { id: rec.id, error: e })));
  const results = await Promise.allSettled([
    network,
    runtimeGone.then(() => deps.host.removeCgroup(paths.cgroupsPath).catch(() => undefined)),
    volumesGone.then(() => opts.afterUnmount?.()),
    Promise.all([runtimeGone, volumesGone]).then(() => rm(paths.bundleDir, { recursive: true, force: true })),
  ]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
