// The changes of a vfs snapshot against its parent, laid out as an overlay upper dir: what was
// added or changed is hardlinked in (same inode: content, owner, mode, xattrs and times come
// along without a copy), what was deleted becomes an overlay whiteout (char device 0:0). The
// layer writer and `docker diff` then read it exactly as they read an overlay snapshot. Entries
// are compared as moby's naive diff does: type, mode, owner, size, mtime, link target, device.
import type { BigIntStats } from 'node:fs';
import { link, lstat, lutimes, mkdir, readdir, readlink, chown, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../../os/exec.ts';

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function kind(st: BigIntStats): number {
  return Number(st.mode) & 0o170000;
}

async function sameEntry(a: BigIntStats, aPath: string, p: BigIntStats, pPath: string): Promise<boolean> {
  if (kind(a) !== kind(p) || a.mode !== p.mode || a.uid !== p.uid || a.gid !== p.gid) return false;
  if (a.isDirectory()) return a.mtimeNs === p.mtimeNs;
  if (a.size !== p.size || a.mtimeNs !== p.mtimeNs || a.rdev !== p.rdev) return false;
  if (a.isSymbolicLink()) return (await readlink(aPath)) === (await readlink(pPath));
  return true;
}

/**
 * Write into the empty directory `out` (on the same filesystem as `tree`) the difference of
 * `tree` against `parent` (undefined: everything is new).
 */
export async function diffTrees(tree: string, parent: string | undefined, out: string): Promise<void> {
  const made = new Map<string, BigIntStats>(); // dirs created in out, with the metadata to give them
  const ensureDir = async (rel: string): Promise<void> => {
    if (rel === '' || made.has(rel)) return;
    await ensureDir(rel.slice(0, Math.max(0, rel.lastIndexOf('/'))));
    const st = await lstat(join(tree, rel), { bigint: true });
    await mkdir(join(out, rel));
    made.set(rel, st);
  };
  const parentOf = (rel: string): string => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));

  const walk = async (rel: string, base: string | undefined): Promise<void> => {
    const names = await readdir(join(tree, rel));
    const baseNames = base !== undefined ? new Set(await readdir(join(base, rel)).catch(() => [] as string[])) : new Set<string>();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const aPath = join(tree, r);
      const a = await lstatOrUndefined(aPath);
      if (!a) continue;
      const p = base !== undefined && baseNames.has(name) ? await lstatOrUndefined(join(base, r)) : undefined;
      if (a.isDirectory()) {
        const both = p?.isDirectory();
        if (!both || !(await sameEntry(a, aPath, p!, join(base!, r)))) await ensureDir(r);
        // A directory replacing a non-directory: everything below is new.
        await walk(r, both ? base : undefined);
        continue;
      }
      if (p && (await sameEntry(a, aPath, p, join(base!, r)))) continue;
      await ensureDir(parentOf(r));
      await link(aPath, join(out, r));
    }
    for (const name of baseNames) {
      if (names.includes(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      await ensureDir(parentOf(r));
      await run('mknod', ['-m', '0', join(out, r), 'c', '0', '0']);
    }
  };
  await walk('', parent);
  // Directory metadata last, deepest first: creating entries would bump the times again.
  for (const [rel, st] of [...made.entries()].reverse()) {
    const path = join(out, rel);
    await chown(path, Number(st.uid), Number(st.gid)).catch(() => undefined);
    await chmod(path, Number(st.mode) & 0o7777);
    const t = new Date(Number(st.mtimeNs / 1_000_000n));
    await lutimes(path, t, t);
  }
}
