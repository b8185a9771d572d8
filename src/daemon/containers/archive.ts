import type { BigIntStats } from 'node:fs';
import { readlink, type FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Conflict, InvalidParameter, NotFound, isKind } from '../../lib/errors.ts';
import { fdPath, resolveScoped, type ScopedTarget } from '../../lib/scopedfs.ts';
import { formatTimestamp } from '../../lib/time.ts';
import { extractScoped } from '../../store/diff/extract.ts';
import { coalesce, tarTree } from '../../store/diff/tartree.ts';
import type { ContainerPathStat } from '../../types/docker.ts';
import { withContainerFs } from './container-fs.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';

// docker cp and export: /containers/{id}/archive (HEAD, GET, PUT) and /containers/{id}/export.
// The container's trees come from withContainerFs (container-fs.ts); all access inside goes through
// directory handles (src/lib/scopedfs.ts): symlinks the container planted are resolved as if its
// root were `/`, never by the kernel on the host.

/** Go's os.FileMode bits for a stat, as docker's path stat reports them. */
export function goFileMode(st: BigIntStats): number {
  let m = Number(st.mode & 0o777n);
  if (st.mode & 0o4000n) m |= 0x00800000; // setuid
  if (st.mode & 0o2000n) m |= 0x00400000; // setgid
  if (st.mode & 0o1000n) m |= 0x00100000; // sticky
  if (st.isDirectory()) m |= 0x80000000;
  else if (st.isSymbolicLink()) m |= 0x08000000;
  else if (st.isBlockDevice()) m |= 0x04000000;
  else if (st.isCharacterDevice()) m |= 0x04000000 | 0x00200000;
  else if (st.isFIFO()) m |= 0x02000000;
  else if (st.isSocket()) m |= 0x01000000;
  return m >>> 0;
}

/** The container path as docker treats it: relative paths are relative to `/`. */
function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** docker cp's rule: a trailing `/` or `/.` means "follow the last symlink" (and "the contents"). */
function followsLast(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.');
}

/** The name the archive is rooted at: the last component as typed (`.` for `dir/.`). */
function archiveBase(path: string): string {
  if (path.endsWith('/.')) return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '.';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The stat's name: the last component of the path as typed (`/` for the root). */
function statName(path: string): string {
  const p = absolute(path).replace(/\/\.$/, '').replace(/\/+$/, '');
  return p === '' ? '/' : p.slice(p.lastIndexOf('/') + 1);
}

/** Resolve `inner` (where the container path `path` lives in `root`); NotFound in docker's words. */
async function resolveExisting(root: FileHandle, rec: ContainerRecord, path: string, inner: string): Promise<ScopedTarget & { stat: BigIntStats }> {
  let t: ScopedTarget;
  try {
    t = await resolveScoped(root, absolute(inner), { followLast: followsLast(path) });
  } catch (err) {
    if (isKind(err, 'NotFound')) throw new NotFound(`Could not find the file ${path} in container ${rec.name}`);
    throw err;
  }
  if (!t.stat) {
    if (t.dir !== root) await t.dir.close();
    throw new NotFound(`Could not find the file ${path} in container ${rec.name}`);
  }
  return t as ScopedTarget & { stat: BigIntStats };
}

async function pathStat(root: FileHandle, t: ScopedTarget & { stat: BigIntStats }, path: string): Promise<ContainerPathStat> {
  let linkTarget = '';
  if (t.stat.isSymbolicLink()) {
    // docker reports where the link leads inside the container, fully resolved.
    try {
      const r = await resolveScoped(root, t.path, { followLast: true });
      linkTarget = r.path;
      if (r.dir !== root) await r.dir.close();
    } catch {
      linkTarget = await readlink(fdPath(t.dir, t.name));
    }
  }
  return {
    name: statName(path),
    size: Number(t.stat.size),
    mode: goFileMode(t.stat),
    mtime: formatTimestamp(t.stat.mtimeNs).replace(/\.?0+Z$/, 'Z'),
    linkTarget,
  };
}

/** HEAD /containers/{id}/archive: the stat of a path inside the container. */
export async function statContainerPath(deps: ContainerDeps, ref: string, path: string): Promise<ContainerPathStat> {
  const rec = deps.repo.find(ref);
  return withContainerFs(deps, rec, async (fs) => {
    const { root, path: inner } = await fs.locate(path);
    const t = await resolveExisting(root, rec, path, inner);
    try {
      return await pathStat(root, t, path);
    } finally {
      if (t.dir !== root) await t.dir.close();
    }
  });
}

/**
 * GET /containers/{id}/archive: `start(stat)` is called once the path is found (send the headers
 * there) and returns where the tar goes. The tar is rooted at the path's basename.
 */
export async function archiveContainerPath(deps: ContainerDeps, ref: string, path: string, start: (stat: ContainerPathStat) => Writable): Promise<void> {
  const rec = deps.repo.find(ref);
  await withContainerFs(deps, rec, async (fs) => {
    const { root, path: inner } = await fs.locate(path);
    const t = await resolveExisting(root, rec, path, inner);
    try {
      const stat = await pathStat(root, t, path);
      const sink = start(stat);
      deps.events.publish('container', 'archive-path', rec.id, eventAttributes(rec, { path }));
      await pipeline(Readable.from(coalesce(tarTree(t.dir, t.name, archiveBase(path))), { objectMode: false }), sink);
    } finally {
      if (t.dir !== root) await t.dir.close();
    }
  });
}

export interface ExtractParams {
  noOverwriteDirNonDir?: boolean;
  copyUIDGID?: boolean;
}

/** PUT /containers/{id}/archive: extract a tar into the directory `path` inside the container. */
export async function extractToContainer(deps: ContainerDeps, ref: string, path: string, body: Readable, params: ExtractParams = {}): Promise<void> {
  const rec = deps.repo.find(ref);
  if (rec.hostConfig.ReadonlyRootfs) throw new Conflict('container rootfs is marked read-only');
  await withContainerFs(deps, rec, async (fs) => {
    const { root, path: inner } = await fs.locate(path);
    let st: BigIntStats | undefined;
    try {
      const t = await resolveScoped(root, absolute(inner), { followLast: true });
      st = t.stat;
      if (t.dir !== root) await t.dir.close();
    } catch (err) {
      if (!isKind(err, 'NotFound')) throw err;
    }
    if (!st) throw new NotFound(`Could not find the file ${path} in container ${rec.name}`);
    if (!st.isDirectory()) throw new InvalidParameter('extraction point is not a directory');
    await extractScoped(root, absolute(inner), body, { noOverwriteDirNonDir: params.noOverwriteDirNonDir ?? false, copyUidGid: params.copyUIDGID ?? false });
  });
  deps.events.publish('container', 'extract-to-dir', rec.id, eventAttributes(rec, { path }));
}

/** GET /containers/{id}/export: the container's filesystem as a tar (its rootfs, not its volumes). */
export async function exportContainer(deps: ContainerDeps, ref: string, start: () => Writable): Promise<void> {
  const rec = deps.repo.find(ref);
  await withContainerFs(deps, rec, async (fs) => {
    const sink = start();
    await pipeline(Readable.from(coalesce(tarTree(fs.rootfs, '', '')), { objectMode: false }), sink);
  });
  deps.events.publish('container', 'export', rec.id, eventAttributes(rec));
}
