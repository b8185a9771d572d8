import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readlink, stat, type FileHandle } from 'node:fs/promises';
import { InvalidParameter, NotFound } from './errors.ts';

// openat(2)-style file access inside a directory tree that someone else controls (a container's
// rootfs or upper dir, possibly while the container runs). Node has no openat, but Linux resolves
// `/proc/self/fd/<dirfd>/<name>` exactly like openat(dirfd, name): the magic link jumps to the
// directory object we hold, and `name` is one component, so no symlink the tree's owner planted
// (or swaps in while we work) can be followed on the way. Every directory on a path is opened
// with O_PATH|O_NOFOLLOW, one component at a time, and symlinks are resolved by us as if the
// tree's root were `/` (chroot semantics), never by the kernel.

/** Linux O_PATH (not in fs.constants): a handle for path resolution only. */
export const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const MAX_SYMLINKS = 40; // Linux's own limit (ELOOP)

/** The path that names `name` inside the directory held open as `dir` (or the directory itself). */
export function fdPath(dir: FileHandle, name?: string): string {
  if (name !== undefined && (name === '' || name === '.' || name === '..' || name.includes('/'))) {
    throw new InvalidParameter(`invalid path component: ${JSON.stringify(name)}`);
  }
  return name === undefined ? `/proc/self/fd/${dir.fd}` : `/proc/self/fd/${dir.fd}/${name}`;
}

/**
 * Open a trusted directory (the root of a tree) as an O_PATH handle. Its own path is followed
 * (it may be a magic link such as `/proc/<pid>/root`); only what lies below it is untrusted.
 */
export async function openRootDir(path: string): Promise<FileHandle> {
  return open(path, O_PATH | constants.O_DIRECTORY);
}

/** Open the subdirectory `name` of `dir` without following a symlink there. */
export async function openSubdir(dir: FileHandle, name: string): Promise<FileHandle> {
  return open(fdPath(dir, name), DIR_FLAGS);
}

/** lstat of `name` inside `dir` (never follows `name`); undefined if it does not exist. */
export async function lstatIn(dir: FileHandle, name: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(fdPath(dir, name), { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Where a path inside the tree ended up. The caller owns (and must close) `dir`. */
export interface ScopedTarget {
  /** The directory that contains the target (the root itself for `/`). */
  dir: FileHandle;
  /** The target's name in `dir`; '' when the target is `dir` itself (the root). */
  name: string;
  /** lstat of the target; undefined when it does not exist (its parent does). */
  stat?: BigIntStats;
  /** The resolved path from the tree's root, `/`-separated, starting with `/`. */
  path: string;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (as for a path ending in `/` or `/.`). */
  followLast?: boolean;
}

/**
 * Resolve `path` inside the tree held open as `root`, with chroot semantics: `..` stops at the
 * root, absolute symlink targets restart from the root, and every step is taken relative to a
 * directory handle. The last component is not followed unless `followLast`. Throws NotFound when a
 * directory on the way is missing, InvalidParameter when one is not a directory or for a loop.
 */
export async function resolveScoped(root: FileHandle, path: string, opts: ResolveOptions = {}): Promise<ScopedTarget> {
  const stack: Array<{ dir: FileHandle; name: string }> = [{ dir: root, name: '' }];
  const queue = path.split('/');
  let links = 0;
  const cleanup = async (keep?: FileHandle): Promise<void> => {
    for (const e of stack) if (e.dir !== root && e.dir !== keep) await e.dir.close();
  };
  const here = (): string => '/' + stack.slice(1).map((e) => e.name).join('/');
  try {
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length > 1) await stack.pop()!.dir.close();
        continue;
      }
      if (part.includes('\0')) throw new InvalidParameter(`invalid path: ${JSON.stringify(path)}`);
      const top = stack[stack.length - 1].dir;
      const last = queue.every((p) => p === '' || p === '.');
      const st = await lstatIn(top, part);
      if (st?.isSymbolicLink() && (!last || opts.followLast)) {
        if (++links > MAX_SYMLINKS) throw new InvalidParameter(`too many levels of symbolic links: ${path}`);
        const target = await readlink(fdPath(top, part));
        if (target.startsWith('/')) while (stack.length > 1) await stack.pop()!.dir.close();
        queue.unshift(...target.split('/'));
        continue;
      }
      if (last && !(st?.isDirectory() && opts.followLast)) {
        const res: ScopedTarget = { dir: top, name: part, path: `${here() === '/' ? '' : here()}/${part}` };
        if (st) res.stat = st;
        await cleanup(top);
        return res;
      }
      if (!st) throw new NotFound(`no such file or directory: ${here() === '/' ? '' : here()}/${part}`);
      if (!st.isDirectory()) throw new InvalidParameter(`not a directory: ${here() === '/' ? '' : here()}/${part}`);
      stack.push({ dir: await openSubdir(top, part), name: part });
    }
    // The path named a directory that we opened (or the root).
    const top = stack.pop()!;
    await cleanup(top.dir);
    if (top.dir === root) return { dir: root, name: '', stat: await stat(fdPath(root), { bigint: true }), path: '/' };
    const parentPath = here();
    return { dir: top.dir, name: '', stat: await stat(fdPath(top.dir), { bigint: true }), path: parentPath === '/' ? `/${top.name}` : `${parentPath}/${top.name}` };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
