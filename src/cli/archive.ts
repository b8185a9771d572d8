// Local side of `berth cp`: pack a host path into a tar, and unpack a container's tar onto the host.
// Unpacking resolves every entry inside the destination (lib/safepath.ts), so an archive cannot
// write outside it, whatever names or links it holds.
import { constants, createReadStream } from 'node:fs';
import { chmod, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { entryComponents, joinInside, resolveParentInScope } from '../lib/safepath.ts';

/** A tar of the host path `src` whose top entry is named `name` (docker cp's "rebase"). */
export function packPath(src: string, name: string): Readable {
  const pack = tar.pack();
  const add = async (path: string, entryName: string): Promise<void> => {
    const st = await lstat(path);
    const base = { name: entryName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await entry(pack, { ...base, type: 'directory' });
      for (const child of (await readdir(path)).sort()) await add(join(path, child), `${entryName}/${child}`);
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...base, type: 'symlink', linkname: await readlink(path) });
    } else if (st.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(path), sink).catch(reject);
      });
    }
    // devices, fifos and sockets are not copied from the host
  };
  add(src, name).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return pack as unknown as Readable;
}

function entry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

export interface UnpackOptions {
  /** Rename the archive's top entry `from` to `to` (copying to a new name). */
  rename?: { from: string; to: string };
}

/** Unpack a tar into the host directory `dest`, confined to it. */
export async function unpackInto(src: Readable, dest: string, opts: UnpackOptions = {}): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(src, extract);
  feeding.catch(() => undefined);
  const dirTimes: Array<{ path: string; mtime: Date }> = [];
  for await (const e of extract) {
    const h = e.header;
    let parts = entryComponents(h.name);
    if (opts.rename && parts[0] === opts.rename.from) parts = [opts.rename.to, ...parts.slice(1)];
    const body = e as unknown as AsyncIterable<Buffer>;
    if (parts.length === 0) {
      for await (const _ of body) void _;
      continue;
    }
    const path = joinInside(dest, await resolveParentInScope(dest, parts));
    await mkdir(dirname(path), { recursive: true });
    const existing = await lstat(path).catch(() => undefined);
    if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(path, { recursive: true, force: true });
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    if (h.type === 'directory') {
      if (!existing?.isDirectory()) await mkdir(path);
      await chmod(path, mode);
      dirTimes.push({ path, mtime });
      for await (const _ of body) void _;
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of body) await fh.write(chunk);
        await fh.chmod(mode);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
    } else if (h.type === 'symlink') {
      for await (const _ of body) void _;
      await symlink(h.linkname ?? '', path);
      await lutimes(path, mtime, mtime);
    } else if (h.type === 'link') {
      for await (const _ of body) void _;
      let lparts = entryComponents(h.linkname ?? '');
      if (opts.rename && lparts[0] === opts.rename.from) lparts = [opts.rename.to, ...lparts.slice(1)];
      await link(joinInside(dest, await resolveParentInScope(dest, lparts)), path);
    } else {
      for await (const _ of body) void _;
    }
  }
  await feeding;
  for (const { path, mtime } of dirTimes.reverse()) await lutimes(path, mtime, mtime);
}
