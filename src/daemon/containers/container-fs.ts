import { mkdir, rmdir, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Conflict } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { openRootDir } from '../../lib/scopedfs.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import { isRunning, type ContainerRecord } from './record.ts';

/** A container's file trees for docker cp: its rootfs and, where reachable, its volumes and binds. */
export interface ContainerFs {
  /** The rootfs (without volumes), held open. */
  rootfs: FileHandle;
  /** The tree that holds the container path `path`, and the path inside that tree. */
  locate(path: string): Promise<{ root: FileHandle; path: string }>;
}

/**
 * Run `fn` with the container's file trees open. A running container is seen through
 * `/proc/<pid>/root`, its own view with every mount (volumes, binds, tmpfs) in place. A stopped
 * one has its rootfs mounted for the time of `fn`, under the container's lock (start and rm wait),
 * and paths below a volume or bind destination go to the mount's source on the host. Either way
 * every path is then resolved inside the tree with src/lib/scopedfs.ts, so nothing the container
 * planted can lead outside it.
 */
export async function withContainerFs<T>(deps: ContainerDeps, rec: ContainerRecord, fn: (fs: ContainerFs) => Promise<T>): Promise<T> {
  const paths = containerPaths(deps, rec.id);
  const opened: FileHandle[] = [];
  const open = async (path: string): Promise<FileHandle> => {
    const h = await openRootDir(path);
    opened.push(h);
    return h;
  };
  const closeAll = async (): Promise<void> => {
    for (const h of opened.splice(0)) await h.close().catch(() => undefined);
  };

  const running = async (): Promise<T> => {
    try {
      const rootfs = await open(paths.rootfs);
      // The container's own root, mounts included; its mounted rootfs if the process is gone.
      const view = rec.state.pid > 0 ? await open(`/proc/${rec.state.pid}/root`).catch(() => rootfs) : rootfs;
      return await fn({ rootfs, locate: async (path) => ({ root: view, path }) });
    } finally {
      await closeAll();
    }
  };
  if (isRunning(rec.state)) return running();

  return deps.locks.run(rec.id, async () => {
    if (isRunning(rec.state)) return running();
    if (rec.state.status === 'removing' || rec.state.status === 'dead' || !deps.repo.get(rec.id)) throw new Conflict(`container ${rec.name} is being removed`);
    await mkdir(paths.rootfs, { recursive: true, mode: 0o700 });
    let mounted = false;
    try {
      await deps.host.mountAll(await deps.snapshots.mounts(rec.id), paths.rootfs);
      mounted = true;
      const rootfs = await open(paths.rootfs);
      const mounts = (deps.volumes?.mountPoints(rec.id) ?? [])
        .filter((m) => m.Source !== '' && (m.Type === 'bind' || m.Type === 'volume'))
        .sort((a, b) => b.Destination.length - a.Destination.length);
      const sources = new Map<string, FileHandle>();
      return await fn({
        rootfs,
        locate: async (path) => {
          const norm = posix.normalize(path.startsWith('/') ? path : `/${path}`);
          for (const m of mounts) {
            const dest = m.Destination.replace(/\/+$/, '') || '/';
            if (norm !== dest && !norm.startsWith(dest + '/')) continue;
            let root = sources.get(m.Source);
            if (!root) {
              root = await open(m.Source);
              sources.set(m.Source, root);
            }
            return { root, path: norm.slice(dest.length) || '/' };
          }
          return { root: rootfs, path };
        },
      });
    } finally {
      await closeAll();
      let unmounted = !mounted;
      if (mounted) {
        unmounted = await deps.host.unmount(paths.rootfs).then(
          () => true,
          async (e: unknown) => {
            log.warn('unmount after copy failed; detaching lazily', { id: rec.id, error: e });
            return deps.host.unmount(paths.rootfs, { detach: true }).then(() => true, () => false);
          },
        );
      }
      // rmdir, never rm -r: if the rootfs were still mounted, a recursive removal would delete the container's files.
      if (unmounted) await rmdir(paths.rootfs).then(() => rmdir(paths.bundleDir)).catch(() => undefined);
    }
  });
}
