import { chmod, chown, lstat, readdir } from 'node:fs/promises';
import { entryComponents, joinInside, resolveInScope } from '../lib/safepath.ts';
import { copyTree } from '../os/copy.ts';

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Docker's copy-up: a volume that is still empty when a container first mounts it over an image
 * directory starts with that directory's content, ownership and modes (moby's
 * CopyExistingContents). `rootfs` is the container's mounted root; `destination` is resolved inside
 * it with symlinks kept in scope, so an image cannot make us copy from the host. `cp -a` keeps
 * owners, modes, times, xattrs, symlinks and hardlinks, and applies the source directory's own
 * owner and mode to the volume root. Returns whether anything was copied.
 */
export async function copyImageContent(rootfs: string, destination: string, volumeDir: string): Promise<boolean> {
  if (!(await isEmptyDir(volumeDir))) return false;
  const src = joinInside(rootfs, await resolveInScope(rootfs, entryComponents(destination)));
  let st;
  try {
    st = await lstat(src);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return false;
  if ((await readdir(src)).length === 0) {
    // Nothing to copy, but the volume root takes the directory's owner and mode (no process spawned:
    // this runs at every start while the volume stays empty).
    await chown(volumeDir, st.uid, st.gid);
    await chmod(volumeDir, st.mode & 0o7777);
    return false;
  }
  await copyTree(src, volumeDir);
  return true;
}
