// COPY and ADD: plan the entries a copy adds to the image, checksum them (the cache key), and
// write them as a layer tar. The plan resolves sources inside the source view (the context, a
// stage or an image) and the destination inside the parent image's view, so symlinks on either
// side are followed in scope and never lead outside.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidParameter, NotFound } from '../lib/errors.ts';
import { pathParts, resolveInView, type TreeEntry, type TreeView } from './fs.ts';

/** One entry of the layer a copy produces. `path` is relative to the image root. */
export interface LayerEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
  /** Content: a host file, or bytes (heredocs, downloads). */
  hostPath?: string;
  data?: Buffer;
  /** Content digest of hostPath, when known. */
  digest?: string;
  size: number;
  /** A parent directory that exists in the image already (kept with its metadata). */
  existing?: boolean;
}

export interface CopySource {
  /** As written (after expansion): a path, a wildcard pattern, or an inline file. */
  path: string;
  inline?: { data: Buffer; name: string; mode?: number; mtime?: Date };
}

export interface CopyPlanOptions {
  sources: CopySource[];
  /** Absolute destination (WORKDIR applied); a trailing `/` means "a directory". */
  dest: string;
  from: TreeView;
  into: TreeView;
  owner?: { uid: number; gid: number };
  chmod?: number;
  /** ADD: local tar archives are extracted into the destination. */
  extractArchives?: (entry: TreeEntry) => Promise<LayerEntry[] | undefined>;
  /** Time for directories the copy creates. */
  now: Date;
  keyword: string;
}

const GLOB_CHARS = /[*?[]/;

/** Go's filepath.Match for one path component. */
function componentRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new InvalidParameter(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Paths (components) in `view` matching a wildcard pattern, sorted. */
async function glob(view: TreeView, pattern: string): Promise<string[][]> {
  const comps = pathParts(pattern);
  let matches: string[][] = [[]];
  for (const comp of comps) {
    const next: string[][] = [];
    for (const base of matches) {
      if (!GLOB_CHARS.test(comp)) {
        if (await view.lstat([...base, comp])) next.push([...base, comp]);
        continue;
      }
      const e = await view.lstat(base);
      if (base.length > 0 && e?.type !== 'dir') continue;
      const re = componentRegex(comp);
      for (const name of await view.readdir(base)) if (re.test(name)) next.push([...base, name]);
    }
    matches = next;
  }
  return matches;
}

function joinRel(parts: readonly string[]): string {
  return parts.join('/');
}

/**
 * The entries a COPY/ADD adds, in tar order (parents first). Throws NotFound for a missing
 * source, InvalidParameter for Docker's usage errors.
 */
export async function planCopy(opts: CopyPlanOptions): Promise<LayerEntry[]> {
  const { from, into } = opts;
  const uid = opts.owner?.uid ?? 0;
  const gid = opts.owner?.gid ?? 0;
  const destIsDir = opts.dest.endsWith('/') || opts.dest.endsWith('/.');

  // Resolve sources first (wildcards may make several).
  type Src = { parts: string[]; entry: TreeEntry } | { inline: NonNullable<CopySource['inline']> };
  const srcs: Src[] = [];
  for (const s of opts.sources) {
    if (s.inline) {
      srcs.push({ inline: s.inline });
      continue;
    }
    if (GLOB_CHARS.test(s.path)) {
      const found = await glob(from, s.path);
      for (const parts of found) {
        const resolved = await resolveInView(from, parts);
        const entry = await from.lstat(resolved);
        if (entry) srcs.push({ parts: resolved, entry });
      }
      continue;
    }
    const resolved = await resolveInView(from, pathParts(s.path));
    const entry = await from.lstat(resolved);
    if (!entry) throw new NotFound(`${opts.keyword} failed: file not found in build context or excluded by .dockerignore: stat ${s.path}: file does not exist`);
    srcs.push({ parts: resolved, entry });
  }
  if (srcs.length === 0) throw new InvalidParameter(`${opts.keyword} failed: no source files were specified`);
  if ((srcs.length > 1 || opts.sources.length > 1) && !destIsDir) {
    throw new InvalidParameter(`When using ${opts.keyword} with more than one source file, the destination must be a directory and end with a /`);
  }

  const destParts = await resolveInView(into, pathParts(opts.dest));
  const destEntry = await into.lstat(destParts);
  const intoDir = destIsDir || destEntry?.type === 'dir';

  const out = new Map<string, LayerEntry>();
  /** Make sure every ancestor of `parts` (exclusive) has an entry: the image's own or a new 0755 dir. */
  const ensureParents = async (parts: readonly string[]): Promise<void> => {
    for (let i = 1; i < parts.length; i++) await ensureDir(parts.slice(0, i), false);
  };
  const ensureDir = async (parts: readonly string[], isTarget: boolean): Promise<void> => {
    const key = joinRel(parts);
    if (key === '' || out.has(key)) return;
    const existing = await into.lstat(parts);
    if (existing?.type === 'dir') {
      out.set(key, { path: key, type: 'dir', mode: existing.mode, uid: existing.uid, gid: existing.gid, mtime: existing.mtime, size: 0, existing: true });
    } else {
      out.set(key, { path: key, type: 'dir', mode: isTarget && opts.chmod !== undefined ? opts.chmod : 0o755, uid, gid, mtime: opts.now, size: 0 });
    }
  };
  const addEntry = (parts: readonly string[], e: TreeEntry | NonNullable<CopySource['inline']>): void => {
    const key = joinRel(parts);
    if ('data' in e) {
      out.set(key, { path: key, type: 'file', mode: opts.chmod ?? e.mode ?? 0o644, uid, gid, mtime: e.mtime ?? opts.now, data: e.data, size: e.data.length });
      return;
    }
    if (e.type === 'other') return; // sockets, devices, FIFOs are not copied
    const mode = e.type === 'symlink' ? 0o777 : (opts.chmod ?? e.mode);
    const le: LayerEntry = { path: key, type: e.type, mode, uid, gid, mtime: e.mtime, size: e.size };
    if (e.type === 'file') {
      le.hostPath = e.hostPath;
      if (e.digest) le.digest = e.digest;
    }
    if (e.type === 'symlink') le.linkname = e.linkname;
    out.set(key, le);
  };
  const copyTree = async (srcParts: readonly string[], dstParts: readonly string[]): Promise<void> => {
    for (const name of await from.readdir(srcParts)) {
      const e = await from.lstat([...srcParts, name]);
      if (!e) continue;
      addEntry([...dstParts, name], e);
      if (e.type === 'dir') await copyTree([...srcParts, name], [...dstParts, name]);
    }
  };

  for (const s of srcs) {
    if ('inline' in s) {
      const target = intoDir ? [...destParts, s.inline.name] : destParts;
      await ensureParents(target);
      addEntry(target, s.inline);
      continue;
    }
    const { parts, entry } = s;
    if (entry.type === 'dir') {
      await ensureParents(destParts);
      await ensureDir(destParts, true);
      await copyTree(parts, destParts);
      continue;
    }
    const extracted = opts.extractArchives ? await opts.extractArchives(entry) : undefined;
    if (extracted) {
      await ensureParents(destParts);
      await ensureDir(destParts, true);
      for (const x of extracted) {
        const target = [...destParts, ...pathParts(x.path)];
        await ensureParents(target);
        out.set(joinRel(target), { ...x, path: joinRel(target) });
      }
      continue;
    }
    const base = parts.length > 0 ? parts[parts.length - 1] : '';
    const target = intoDir ? [...destParts, base] : destParts;
    if (target.length === 0) throw new InvalidParameter(`${opts.keyword} failed: cannot copy to /`);
    await ensureParents(target);
    addEntry(target, entry);
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/**
 * The checksum of a copy's inputs: names, types, modes, ownership, link targets and contents
 * (unless `content: false`); not modification times, as Docker's (so `touch` alone keeps the cache).
 */
export async function checksumEntries(entries: readonly LayerEntry[], opts: { content?: boolean } = {}): Promise<string> {
  const h = createHash('sha256');
  for (const e of entries) {
    let content = '';
    if (opts.content === false) content = '';
    else if (e.data) content = createHash('sha256').update(e.data).digest('hex');
    else if (e.digest) content = e.digest.slice('sha256:'.length);
    else if (e.hostPath) content = await fileDigest(e.hostPath);
    h.update(JSON.stringify([e.path, e.type, e.mode, e.uid, e.gid, e.linkname ?? '', content, e.existing ? 1 : 0]) + '\n');
  }
  return 'sha256:' + h.digest('hex');
}

/** Clamp a time to SOURCE_DATE_EPOCH (seconds), if one is set. */
export function clampTime(t: Date, epoch: number | undefined): Date {
  if (epoch === undefined) return t;
  return t.getTime() > epoch * 1000 ? new Date(epoch * 1000) : t;
}

/** The layer tar of planned entries (uncompressed, PAX where needed, times clamped to `epoch`). */
export function layerTar(entries: readonly LayerEntry[], epoch?: number): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      for (const e of entries) {
        const header: Partial<tar.Header> & { name: string } = {
          name: e.type === 'dir' ? e.path + '/' : e.path,
          type: e.type === 'dir' ? 'directory' : e.type,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: clampTime(e.mtime, epoch),
          uname: '',
          gname: '',
        };
        if (e.type === 'symlink') header.linkname = e.linkname ?? '';
        if (e.type !== 'file') {
          await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
          continue;
        }
        if (e.data) {
          header.size = e.data.length;
          await new Promise<void>((resolve, reject) => pack.entry(header, e.data!, (err) => (err ? reject(err) : resolve())));
          continue;
        }
        header.size = e.size;
        const sink = pack.entry(header);
        await pipeline(createReadStream(e.hostPath!), sink);
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  // tar-stream's Pack is a streamx Readable, which Node's stream functions accept.
  return pack as unknown as Readable;
}

/** Display name of the copy's inputs for history (`file:<hex>` / `dir:<hex>` as Docker writes it). */
export function historySource(entries: readonly LayerEntry[], checksum: string, sources: number): string {
  const added = entries.filter((e) => !e.existing && e.type !== 'dir');
  const kind = sources === 1 && added.length === 1 ? 'file' : added.length === 0 ? 'dir' : 'multi';
  return `${kind}:${checksum.slice('sha256:'.length)}`;
}
