import { constants } from 'node:fs';
import { lchown, link, lutimes, mkdir, open, readdir, rmdir, symlink, unlink, utimes, chmod, chown, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { Conflict, InvalidParameter } from '../../lib/errors.ts';
import { entryComponents } from '../../lib/safepath.ts';
import { O_PATH, fdPath, lstatIn, openSubdir, resolveScoped } from '../../lib/scopedfs.ts';
import { run } from '../../os/exec.ts';
import { decompressStream } from './compression.ts';
import { writeXattr } from './xattrs.ts';

// Extracting an archive into a directory tree that a container owns (docker cp into a container),
// possibly while the container runs and plants or swaps symlinks. Every entry's parent is resolved
// with chroot semantics relative to directory handles (src/lib/scopedfs.ts); every file is created
// with O_EXCL|O_NOFOLLOW relative to its parent's handle and its metadata set through the open
// handle, so nothing outside the tree is ever created, written, chmod'ed or chown'ed.

export interface ExtractOptions {
  /** Fail instead of replacing a directory with a non-directory or the reverse (docker cp's default). */
  noOverwriteDirNonDir?: boolean;
  /** Keep the archive's uid/gid; otherwise everything becomes `owner` (docker cp without -a). */
  copyUidGid?: boolean;
  /** Owner when not copying ids (the container's root: 0:0). */
  owner?: { uid: number; gid: number };
}

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

interface Target {
  dir: FileHandle;
  name: string;
}

/** Remove `name` in `dir` (recursively for a directory), never leaving the tree. */
async function removeIn(dir: FileHandle, name: string): Promise<void> {
  const st = await lstatIn(dir, name);
  if (!st) return;
  if (!st.isDirectory()) {
    await unlink(fdPath(dir, name));
    return;
  }
  const sub = await openSubdir(dir, name);
  try {
    for (const child of await readdir(fdPath(sub))) await removeIn(sub, child);
  } finally {
    await sub.close();
  }
  await rmdir(fdPath(dir, name));
}

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

/**
 * Extract a tar (plain, gzip or zstd) into the directory `destPath` of the tree held open as
 * `root`. `destPath` is resolved inside the tree (symlinks followed with chroot semantics) and must
 * be a directory. Entry names are relative to it; `..` entries are refused.
 */
export async function extractScoped(root: FileHandle, destPath: string, src: Readable, opts: ExtractOptions = {}): Promise<void> {
  const dest = await resolveScoped(root, destPath, { followLast: true });
  if (dest.dir !== root) await dest.dir.close();
  if (!dest.stat?.isDirectory()) throw new InvalidParameter(`extraction point is not a directory: ${destPath}`);
  const base = dest.path;
  const owner = opts.owner ?? { uid: 0, gid: 0 };

  const extract = tar.extract();
  const feeding = pipeline(decompressStream(src), extract);
  feeding.catch(() => undefined); // observed below
  const dirTimes: Array<{ path: string[]; mtime: Date }> = [];
  try {
    for await (const entry of extract) {
      const h = entry.header as Header;
      const body = entry as unknown as AsyncIterable<Buffer>;
      const parts = entryComponents(h.name);
      if (parts.length === 0) {
        await drain(body);
        continue;
      }
      const full = `${base}/${parts.join('/')}`;
      await mkdirParents(root, base, parts);
      const t = await resolveScoped(root, full);
      try {
        await extractEntry(root, base, t, h, body, opts, owner);
        if (h.type === 'directory') dirTimes.push({ path: [...parts], mtime: h.mtime ?? new Date() });
      } finally {
        if (t.dir !== root) await t.dir.close();
      }
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    src.resume(); // discard the rest; the caller owns the source (an HTTP request keeps its socket)
    throw err;
  }
  // Directory times last (deepest first): creating children bumps them.
  for (const { path, mtime } of dirTimes.reverse()) {
    const t = await resolveScoped(root, `${base}/${path.join('/')}`);
    try {
      if (t.stat?.isDirectory()) await utimesPath(t, mtime);
    } finally {
      if (t.dir !== root) await t.dir.close();
    }
  }
}

/** Create missing parent directories of an entry (archives need not list them), inside the tree. */
async function mkdirParents(root: FileHandle, base: string, parts: readonly string[]): Promise<void> {
  for (let i = 1; i < parts.length; i++) {
    const t = await resolveScoped(root, `${base}/${parts.slice(0, i).join('/')}`, { followLast: true });
    try {
      if (t.name !== '' && !t.stat) await mkdir(fdPath(t.dir, t.name), { mode: 0o755 });
    } finally {
      if (t.dir !== root) await t.dir.close();
    }
  }
}

/** Set times on a directory through an O_PATH handle of it (no path a symlink could redirect). */
async function utimesPath(t: Target, mtime: Date): Promise<void> {
  const fh = await open(fdPath(t.dir, t.name), O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY);
  try {
    await utimes(`/proc/self/fd/${fh.fd}`, mtime, mtime);
  } finally {
    await fh.close();
  }
}

async function extractEntry(root: FileHandle, base: string, t: Target & { stat?: import('node:fs').BigIntStats }, h: Header, body: AsyncIterable<Buffer>, opts: ExtractOptions, owner: { uid: number; gid: number }): Promise<void> {
  if (t.name === '') {
    // The entry resolved to an existing directory the tree's root or a followed link: merge.
    await drain(body);
    return;
  }
  const existing = t.stat;
  const isDir = h.type === 'directory';
  if (existing) {
    if (opts.noOverwriteDirNonDir && existing.isDirectory() !== isDir) {
      await drain(body);
      throw new Conflict(isDir ? `cannot overwrite non-directory "${h.name}" with directory` : `cannot overwrite directory "${h.name}" with non-directory`);
    }
    if (!(existing.isDirectory() && isDir)) await removeIn(t.dir, t.name);
  }
  const uid = opts.copyUidGid ? (h.uid ?? 0) : owner.uid;
  const gid = opts.copyUidGid ? (h.gid ?? 0) : owner.gid;
  const mode = (h.mode ?? 0o644) & 0o7777;
  const mtime = h.mtime ?? new Date();
  const where = fdPath(t.dir, t.name);

  switch (h.type) {
    case 'directory': {
      if (!existing?.isDirectory()) await mkdir(where, { mode: 0o700 });
      await drain(body);
      const fh = await open(where, O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY);
      try {
        const self = `/proc/self/fd/${fh.fd}`;
        await chown(self, uid, gid);
        await chmod(self, mode);
        await setXattrs(`${self}/.`, h.pax);
      } finally {
        await fh.close();
      }
      return;
    }
    case 'file':
    case 'contiguous-file': {
      const fh = await open(where, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of body) await fh.write(chunk);
        await fh.chown(uid, gid);
        await fh.chmod(mode); // after chown, which clears setuid/setgid
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
      await setXattrs(where, h.pax);
      return;
    }
    case 'symlink':
      await drain(body);
      await symlink(h.linkname ?? '', where);
      await lchown(where, uid, gid);
      await lutimes(where, mtime, mtime);
      return;
    case 'link': {
      await drain(body);
      const linkParts = entryComponents(h.linkname ?? '');
      const target = await resolveScoped(root, `${base}/${linkParts.join('/')}`);
      try {
        if (!target.stat || target.name === '' || target.stat.isDirectory()) throw new InvalidParameter(`invalid hardlink ${h.name} -> ${h.linkname}`);
        await link(fdPath(target.dir, target.name), where);
      } finally {
        if (target.dir !== root) await target.dir.close();
      }
      return;
    }
    case 'character-device':
    case 'block-device':
    case 'fifo': {
      await drain(body);
      // A child process cannot see our /proc/self; /proc/<our pid>/fd/<n> names the same handle.
      const childPath = `/proc/${process.pid}/fd/${t.dir.fd}/${t.name}`;
      if (h.type === 'fifo') await run('mkfifo', ['-m', '0600', childPath]);
      else await run('mknod', ['-m', '0600', childPath, h.type === 'character-device' ? 'c' : 'b', String(h.devmajor ?? 0), String(h.devminor ?? 0)]);
      const fh = await open(where, O_PATH | constants.O_NOFOLLOW);
      try {
        const self = `/proc/self/fd/${fh.fd}`;
        await chown(self, uid, gid);
        await chmod(self, mode);
        await utimes(self, mtime, mtime);
      } finally {
        await fh.close();
      }
      return;
    }
    default:
      await drain(body);
  }
}

/** PAX `SCHILY.xattr.*` records, best effort (tar-stream decodes their values as UTF-8). */
async function setXattrs(path: string, pax: Record<string, string> | null | undefined): Promise<void> {
  if (!pax) return;
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    await writeXattr(path, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'utf8')).catch(() => false);
  }
}
