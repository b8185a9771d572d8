import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { fdPath, lstatIn, openRootDir, openSubdir } from '../../lib/scopedfs.ts';
import { readXattrs } from '../../store/diff/xattrs.ts';
import type { ContainerChange } from '../../types/docker.ts';
import type { ContainerDeps } from './deps.ts';

/** docker's change kinds. */
export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;

/**
 * Paths runc creates in the rootfs as mount points for the files berthd binds in. dockerd keeps
 * them in a hidden "-init" layer, so they never show in `docker diff` or in a committed image;
 * here they are skipped when they are still the empty placeholders.
 */
export const MOUNTPOINT_PLACEHOLDERS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/.dockerenv', '/dev', '/proc', '/sys', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/sys/fs/cgroup']);

/** The lower dirs of a container's rootfs (nearest first), from its snapshot's overlay mount. */
async function lowerDirs(deps: ContainerDeps, id: string): Promise<string[]> {
  for (const m of await deps.snapshots.mounts(id)) {
    const opt = m.options.find((o) => o.startsWith('lowerdir='));
    if (opt) return opt.slice('lowerdir='.length).split(':');
  }
  return [];
}

/** Whether `rel` exists in a lower dir, never following a symlink on the way (layers are immutable). */
async function inLower(lowers: readonly string[], rel: string): Promise<BigIntStats | undefined> {
  const parts = rel.split('/').filter((p) => p !== '');
  for (const lower of lowers) {
    let cur = lower;
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]);
      const st = await lstat(cur, { bigint: true }).catch(() => undefined);
      if (!st || (i < parts.length - 1 && !st.isDirectory())) {
        ok = false;
        break;
      }
      if (i === parts.length - 1) {
        if (st.isCharacterDevice() && st.rdev === 0n) return undefined; // whited out in this layer
        return st;
      }
    }
    if (!ok) continue;
  }
  return undefined;
}

async function isOpaque(dir: FileHandle, name: string): Promise<boolean> {
  const x = await readXattrs(fdPath(dir, name));
  return x.get('trusted.overlay.opaque')?.toString() === 'y';
}

/** GET /containers/{id}/changes: what the container changed, from its upper dir (A=1, C=0, D=2). */
export async function containerChanges(deps: ContainerDeps, ref: string): Promise<ContainerChange[]> {
  const rec = deps.repo.find(ref);
  // A snapshotter whose upper dir is not a diff (vfs) makes one to read.
  const diff = deps.snapshots.diff ? await deps.snapshots.diff(rec.id) : undefined;
  try {
    return await changesOf(diff?.upper ?? (await deps.snapshots.upperDir(rec.id)), diff?.lowers ?? (await lowerDirs(deps, rec.id)));
  } finally {
    await diff?.release();
  }
}

async function changesOf(upper: string, lowers: string[]): Promise<ContainerChange[]> {
  const out: ContainerChange[] = [];
  const changedDirs = new Set<string>();
  const root = await openRootDir(upper);

  const record = (path: string, kind: number): void => {
    out.push({ Path: path, Kind: kind });
    // A change below a directory is a change of that directory (moby's changes.go).
    if (kind !== ChangeKind.Modified) {
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      if (parent !== '/' && !changedDirs.has(parent)) {
        changedDirs.add(parent);
        out.push({ Path: parent, Kind: ChangeKind.Modified });
      }
    }
  };

  const walk = async (dir: FileHandle, prefix: string, underOpaque: boolean): Promise<void> => {
    const names = (await readdir(fdPath(dir))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const st = await lstatIn(dir, name);
      if (!st) continue;
      const path = `${prefix}/${name}`;
      if (st.isCharacterDevice() && st.rdev === 0n) {
        record(path, ChangeKind.Deleted);
        continue;
      }
      const isDir = st.isDirectory();
      if (MOUNTPOINT_PLACEHOLDERS.has(path) && (isDir || (st.isFile() && st.size === 0n))) {
        if (isDir) {
          const sub = await openSubdir(dir, name);
          try {
            await walk(sub, path, underOpaque);
          } finally {
            await sub.close();
          }
        }
        continue;
      }
      const lower = underOpaque ? undefined : await inLower(lowers, path);
      const opaque = isDir && (await isOpaque(dir, name));
      if (!lower) record(path, ChangeKind.Added);
      else if (isDir && lower.isDirectory() && !opaque) {
        // A directory that exists below is only a change if its own metadata changed; moby always
        // lists it when something inside it changed (recorded when its children are).
        if (st.mode !== lower.mode || st.mtimeNs !== lower.mtimeNs) record(path, ChangeKind.Modified);
        changedDirs.add(path);
      } else record(path, ChangeKind.Modified);
      if (isDir) {
        changedDirs.add(path);
        const sub = await openSubdir(dir, name);
        try {
          await walk(sub, path, underOpaque || opaque);
        } finally {
          await sub.close();
        }
      }
    }
  };
  try {
    await walk(root, '', false);
  } finally {
    await root.close();
  }
  // Docker lists changes sorted by path.
  const seen = new Set<string>();
  return out
    .filter((c) => (seen.has(c.Path) ? false : (seen.add(c.Path), true)))
    .sort((a, b) => Buffer.compare(Buffer.from(a.Path), Buffer.from(b.Path)));
}
