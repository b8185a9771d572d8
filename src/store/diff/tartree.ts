import { constants, type BigIntStats } from 'node:fs';
import { open, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import { fdPath, lstatIn, openSubdir } from '../../lib/scopedfs.ts';
import { readXattrs } from './xattrs.ts';
import { encodeTarHeader, tarPadding, TAR_END, type TarEntryHeader, type TarEntryType } from './tarheader.ts';

// Writing a tar of a directory tree that its owner (a container) may be changing while we read:
// every file and directory is opened relative to a directory handle (src/lib/scopedfs.ts), never
// through a path a symlink could redirect, so nothing outside the tree is ever read.

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
const CHUNK = 64 * 1024;

export interface TarTreeOptions {
  /**
   * Overlay upper-dir mode (a layer diff): char devices 0:0 become `.wh.<name>` files and
   * directories with `trusted.overlay.opaque=y` get a `.wh..wh..opq` entry, as the OCI image
   * spec and dockerd's overlay2 driver write them.
   */
  overlayWhiteouts?: boolean;
  /** Clamp modification times to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  clampMtime?: number;
  /** Leave out the end-of-archive blocks (to append more entries). */
  noEnd?: boolean;
}

interface WalkState {
  opts: TarTreeOptions;
  /** First archive name of each multiply-linked inode, for hardlink entries. */
  links: Map<string, string>;
  entries: number;
}

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

function entryType(st: BigIntStats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived (as in docker)
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function mtimeOf(st: BigIntStats, opts: TarTreeOptions): number {
  const secs = Number(st.mtimeNs / 1_000_000_000n);
  return opts.clampMtime !== undefined ? Math.min(secs, opts.clampMtime) : secs;
}

function baseHeader(st: BigIntStats, name: string, type: TarEntryType, opts: TarTreeOptions): TarEntryHeader {
  return { name, type, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: mtimeOf(st, opts) };
}

/**
 * The tar of one entry of `dir` (and everything below it when it is a directory), named `archiveName`
 * in the archive. With `name === ''` the entry is `dir` itself.
 */
async function* entryTar(dir: FileHandle, name: string, st: BigIntStats, archiveName: string, state: WalkState): AsyncGenerator<Buffer> {
  const { opts } = state;
  const type = entryType(st);
  if (!type) return;
  const isRoot = archiveName === '';
  if (!isRoot && type !== 'symlink' && name !== '') {
    // Hardlinks: the second and later names of an inode refer to the first.
    if (type !== 'directory' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = state.links.get(key);
      if (first !== undefined) {
        state.entries++;
        yield encodeTarHeader({ ...baseHeader(st, archiveName, 'link', opts), linkname: first });
        return;
      }
      state.links.set(key, archiveName);
    }
  }
  const xattrs = await readXattrs(name === '' ? `${fdPath(dir)}/.` : fdPath(dir, name));
  let opaque = false;
  for (const key of [...xattrs.keys()]) {
    if (!key.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    if (key === 'trusted.overlay.opaque' && xattrs.get(key)!.toString() === 'y') opaque = true;
    xattrs.delete(key);
  }
  const header = baseHeader(st, archiveName, type, opts);
  if (xattrs.size > 0) header.xattrs = xattrs;

  if (type === 'character-device' && opts.overlayWhiteouts && st.rdev === 0n) {
    // An overlay whiteout: an empty regular file `.wh.<name>`, mode 0 (dockerd's converter).
    const slash = archiveName.lastIndexOf('/');
    const whName = archiveName.slice(0, slash + 1) + WHITEOUT_PREFIX + archiveName.slice(slash + 1);
    state.entries++;
    yield encodeTarHeader({ ...header, name: whName, type: 'file', mode: 0, xattrs: undefined });
    return;
  }
  switch (type) {
    case 'directory': {
      if (!isRoot) {
        state.entries++;
        yield encodeTarHeader(header);
        if (opaque && opts.overlayWhiteouts) {
          state.entries++;
          yield encodeTarHeader({ ...header, name: `${archiveName}/${WHITEOUT_OPAQUE}`, type: 'file', mode: header.mode & 0o777, xattrs: undefined });
        }
      }
      const sub = name === '' ? dir : await openSubdir(dir, name);
      try {
        const names = (await readdir(fdPath(sub))).sort(byteOrder);
        for (const child of names) {
          const cst = await lstatIn(sub, child);
          if (!cst) continue; // removed meanwhile
          yield* entryTar(sub, child, cst, isRoot ? child : `${archiveName}/${child}`, state);
        }
      } finally {
        if (sub !== dir) await sub.close();
      }
      return;
    }
    case 'symlink':
      header.linkname = await readlink(fdPath(dir, name));
      state.entries++;
      yield encodeTarHeader(header);
      return;
    case 'character-device':
    case 'block-device':
      header.devmajor = devMajor(st.rdev);
      header.devminor = devMinor(st.rdev);
      state.entries++;
      yield encodeTarHeader(header);
      return;
    case 'fifo':
      state.entries++;
      yield encodeTarHeader(header);
      return;
    case 'file':
      yield* fileTar(dir, name, st, header, state);
      return;
    default:
      return;
  }
}

async function* fileTar(dir: FileHandle, name: string, st: BigIntStats, header: TarEntryHeader, state: WalkState): AsyncGenerator<Buffer> {
  let fh: FileHandle;
  try {
    // O_NOFOLLOW|O_NONBLOCK: a name swapped for a symlink or a fifo since lstat fails or does not block.
    fh = await open(name === '' ? fdPath(dir) : fdPath(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return; // gone or replaced meanwhile
    throw err;
  }
  try {
    const fst = await fh.stat({ bigint: true });
    if (!fst.isFile() || fst.ino !== st.ino) return; // replaced meanwhile: skip
    const size = Number(fst.size);
    state.entries++;
    yield encodeTarHeader({ ...header, size });
    let pos = 0;
    while (pos < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) {
        // The file shrank while we read it: the header promised `size` bytes, pad with zeros.
        yield Buffer.alloc(size - pos);
        pos = size;
        break;
      }
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    const pad = tarPadding(size);
    if (pad.length > 0) yield pad;
  } finally {
    await fh.close();
  }
}

/**
 * A tar of the entry `name` of the directory handle `dir` (or of `dir` itself when `name` is ''),
 * named `archiveName` in the archive; `archiveName === ''` writes a directory's contents without a
 * top entry (a layer). Entries come in byte order of their names, so the same tree gives the same
 * bytes. Calls `onEnd` with the number of entries written.
 */
export async function* tarTree(dir: FileHandle, name: string, archiveName: string, opts: TarTreeOptions = {}, onEnd?: (entries: number) => void): AsyncGenerator<Buffer> {
  const state: WalkState = { opts, links: new Map(), entries: 0 };
  const st = name === '' ? await stat(fdPath(dir), { bigint: true }) : await lstatIn(dir, name);
  if (st) yield* entryTar(dir, name, st, archiveName, state);
  if (!opts.noEnd) yield TAR_END;
  onEnd?.(state.entries);
}

/** Join small chunks (tar headers) into buffers of at least `min` bytes, for fewer writes. */
export async function* coalesce(src: AsyncIterable<Buffer>, min = 64 * 1024): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of src) {
    pending.push(chunk);
    size += chunk.length;
    if (size >= min) {
      yield pending.length === 1 ? pending[0] : Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}
