import { constants, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter } from '../../lib/errors.ts';
import { entryComponents, joinInside, resolveInScope, resolveParentInScope } from '../../lib/safepath.ts';
import { run } from '../../os/exec.ts';
import { decompressStream } from './compression.ts';


const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';

/** tar-stream's header plus the PAX records it keeps but does not declare. */
type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };
/** A tar entry's body (a streamx Readable, which is async iterable). */
type EntryBody = AsyncIterable<Buffer>;

export interface ApplyOptions {
  /**
   * 'overlay' (default): whiteouts become overlay whiteouts and opaque xattrs, for an upper dir.
   * 'delete': whiteouts delete what they name, for a directory that holds the whole tree (vfs).
   */
  whiteouts?: 'overlay' | 'delete';
}

interface ApplyState {
  root: string;
  whiteouts: 'overlay' | 'delete';
  /** Paths this layer wrote ('delete' mode: an opaque marker keeps them, drops the rest). */
  written: Set<string>;
  size: number;
  /** Directory times are set last: creating children would bump them again. */
  dirTimes: Array<{ path: string; mtime: Date }>;
}

/**
 * Unpack a layer tar (plain, gzip or zstd) into `dir`, the way overlay2 stores a layer: Docker/OCI
 * whiteouts become overlay whiteouts (char device 0:0) and opaque markers become the
 * `trusted.overlay.opaque=y` xattr. Every path is resolved inside `dir` with symlinks followed in
 * scope, so neither `..` entries nor hostile symlinks can write outside it. Returns the number of
 * bytes of regular file content written.
 */
export async function applyLayer(src: Readable, dir: string, opts: ApplyOptions = {}): Promise<{ size: number }> {
  const extract = tar.extract();
  const feeding = pipeline(decompressStream(src), extract);
  feeding.catch(() => undefined); // observed below; avoid an unhandled rejection meanwhile
  const state: ApplyState = { root: dir, whiteouts: opts.whiteouts ?? 'overlay', written: new Set(), size: 0, dirTimes: [] };
  try {
    for await (const entry of extract) {
      // streamx's Readable iterates Buffers; its typings say `any`.
      await applyEntry(state, entry.header as Header, entry as unknown as EntryBody);
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    src.destroy();
    throw err;
  }
  // Deepest first, so setting a parent's time is not undone by touching a child.
  for (const { path, mtime } of state.dirTimes.reverse()) await lutimes(path, mtime, mtime);
  return { size: state.size };
}

async function drain(entry: EntryBody): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function applyEntry(state: ApplyState, h: Header, entry: EntryBody): Promise<void> {
  const parts = entryComponents(h.name);
  if (parts.length === 0) {
    // The layer root ("./"): keep our directory, take nothing from the entry.
    await drain(entry);
    return;
  }
  const base = parts[parts.length - 1];
  if (base.startsWith(WHITEOUT_PREFIX)) {
    await drain(entry);
    await applyWhiteout(state, parts);
    return;
  }

  const resolved = await resolveParentInScope(state.root, parts);
  const path = joinInside(state.root, resolved);
  if (state.whiteouts === 'delete') state.written.add(path);
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const existing = await lstatOrUndefined(path);
  // A tar entry replaces what was there, except that a directory over a directory merges.
  if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(path, { recursive: true, force: true });

  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
      await drain(entry);
      break;
    case 'file':
    case 'contiguous-file': {
      // O_NOFOLLOW|O_EXCL: we just removed whatever was there, so anything else is an attack.
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of entry) {
          await fh.write(chunk);
          state.size += chunk.length;
        }
      } finally {
        await fh.close();
      }
      break;
    }
    case 'symlink':
      await drain(entry);
      await symlink(h.linkname ?? '', path);
      break;
    case 'link': {
      await drain(entry);
      const target = joinInside(state.root, await resolveParentInScope(state.root, entryComponents(h.linkname ?? '')));
      try {
        await link(target, path);
      } catch (err) {
        throw new InvalidParameter(`invalid hardlink ${h.name} -> ${h.linkname}: ${(err as Error).message}`, { cause: err });
      }
      break;
    }
    case 'character-device':
    case 'block-device':
      await drain(entry);
      await run('mknod', ['-m', mode.toString(8), path, h.type === 'character-device' ? 'c' : 'b', String(h.devmajor ?? 0), String(h.devminor ?? 0)]);
      break;
    case 'fifo':
      await drain(entry);
      await run('mkfifo', ['-m', mode.toString(8), path]);
      break;
    default:
      // Unknown entry types (e.g. GNU sparse) are skipped as dockerd does for types it ignores.
      await drain(entry);
      return;
  }

  await setMetadata(state, path, h, mode);
}

async function setMetadata(state: ApplyState, path: string, h: Header, mode: number): Promise<void> {
  const isSymlink = h.type === 'symlink';
  if (h.type !== 'link') {
    try {
      await lchown(path, h.uid ?? 0, h.gid ?? 0);
    } catch (err) {
      // Unprivileged unpacking (tests, rootless): keep our own ownership.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
    // chmod after chown: chown clears setuid/setgid bits.
    if (!isSymlink) await chmod(path, mode);
  }
  if (h.pax) await setXattrs(path, h.pax);
  const mtime = h.mtime ?? new Date(0);
  if (h.type === 'directory') state.dirTimes.push({ path, mtime });
  else if (h.type !== 'link') await lutimes(path, mtime, mtime);
}

/** PAX `SCHILY.xattr.*` records, best effort: a filesystem without xattr support must not fail the pull. */
async function setXattrs(path: string, pax: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    try {
      await run('setfattr', ['-h', '-n', name, '-v', '0x' + Buffer.from(value, 'utf8').toString('hex'), path]);
    } catch {
      // tar-stream decodes PAX values as UTF-8, so binary values may be damaged anyway.
    }
  }
}

async function applyWhiteout(state: ApplyState, parts: string[]): Promise<void> {
  const root = state.root;
  const base = parts[parts.length - 1];
  const parentPath = joinInside(root, await resolveInScope(root, parts.slice(0, -1)));
  await mkdir(parentPath, { recursive: true, mode: 0o755 });
  if (base === WHITEOUT_OPAQUE) {
    if (state.whiteouts === 'delete') {
      // The directory hides everything below it from lower layers: keep only this layer's entries.
      for (const name of await readdir(parentPath)) {
        const p = join(parentPath, name);
        if (!state.written.has(p)) await rm(p, { recursive: true, force: true });
      }
      return;
    }
    await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', parentPath]);
    return;
  }
  if (base.startsWith(WHITEOUT_META_PREFIX)) return; // other AUFS metadata (.wh..wh.plnk etc.)
  const target = join(parentPath, base.slice(WHITEOUT_PREFIX.length));
  if (target === parentPath || base.slice(WHITEOUT_PREFIX.length).includes('/')) throw new InvalidParameter(`invalid whiteout ${parts.join('/')}`);
  await rm(target, { recursive: true, force: true });
  if (state.whiteouts === 'delete') return;
  await run('mknod', ['-m', '0', target, 'c', '0', '0']);
}
