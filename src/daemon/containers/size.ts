import { readdir, type FileHandle } from 'node:fs/promises';
import { fdPath, lstatIn, openRootDir, openSubdir } from '../../lib/scopedfs.ts';
import type { ContainerDeps } from './deps.ts';

/** Bytes of the non-directory entries below `dir` (hardlinks counted once), as dockerd's directory.Size. */
async function treeSize(dir: FileHandle, seen: Set<string>): Promise<number> {
  let total = 0;
  for (const name of await readdir(fdPath(dir))) {
    const st = await lstatIn(dir, name);
    if (!st) continue;
    if (st.isDirectory()) {
      const sub = await openSubdir(dir, name).catch(() => undefined);
      if (!sub) continue;
      try {
        total += await treeSize(sub, seen);
      } finally {
        await sub.close();
      }
      continue;
    }
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    total += Number(st.size);
  }
  return total;
}

/** SizeRw: what the container wrote (its snapshot's upper dir); 0 if it has none. */
export async function containerRwSize(deps: Pick<ContainerDeps, 'snapshots'>, id: string): Promise<number> {
  let upper: string;
  // A snapshotter whose upper dir is the whole tree (vfs) makes a diff against the parent to measure.
  let release: (() => Promise<void>) | undefined;
  try {
    if (deps.snapshots.diff) {
      const diff = await deps.snapshots.diff(id);
      upper = diff.upper;
      release = diff.release;
    } else {
      upper = await deps.snapshots.upperDir(id);
    }
  } catch {
    return 0;
  }
  try {
    const root = await openRootDir(upper).catch(() => undefined);
    if (!root) return 0;
    try {
      return await treeSize(root, new Set());
    } finally {
      await root.close();
    }
  } finally {
    await release?.();
  }
}
