// Read-only views of file trees the builder copies from or into, without mounting anything:
// the build context (a plain directory) and an image (its layer directories merged the way
// overlayfs merges them). Paths are component arrays; symlinks are resolved inside the view, as
// if its root were `/`, so nothing a context or an image contains can point the builder outside.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { InvalidParameter } from '../lib/errors.ts';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeEntry {
  type: EntryType;
  mode: number; // permission bits (07777)
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname?: string;
  /** Where the bytes are on the host (regular files). */
  hostPath: string;
  /** Content digest when already known (computed while the context was unpacked). */
  digest?: string;
}

export interface TreeView {
  lstat(parts: readonly string[]): Promise<TreeEntry | undefined>;
  /** Names in a directory, sorted. */
  readdir(parts: readonly string[]): Promise<string[]>;
}

function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function toEntry(path: string, st: Stats): Promise<TreeEntry> {
  const e: TreeEntry = { type: typeOf(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0, mtime: st.mtime, hostPath: path };
  if (st.isSymbolicLink()) e.linkname = await readlink(path);
  return e;
}

/** A build context: a view of its files, and the files themselves on disk for the steps that need them. */
export interface ContextSource extends TreeView {
  /** The context as a directory (made on first call); entries' hostPath is below it. */
  dir(): Promise<string>;
}

/** A plain directory (an unpacked build context, a mounted image). */
export class DirView implements ContextSource {
  readonly root: string;
  private readonly digests: ReadonlyMap<string, string> | undefined;
  constructor(root: string, digests?: ReadonlyMap<string, string>) {
    this.root = root;
    this.digests = digests;
  }
  async lstat(parts: readonly string[]): Promise<TreeEntry | undefined> {
    const path = join(this.root, ...parts);
    const st = await lstatOrUndefined(path);
    if (!st) return undefined;
    const e = await toEntry(path, st);
    const digest = st.isFile() ? this.digests?.get(path) : undefined;
    if (digest) e.digest = digest;
    return e;
  }
  async readdir(parts: readonly string[]): Promise<string[]> {
    return (await readdir(join(this.root, ...parts))).sort();
  }
  async dir(): Promise<string> {
    return this.root;
  }
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

/**
 * An image's filesystem from its layer directories (top first), merged as overlayfs does:
 * an upper entry hides lower ones, a whiteout (char device 0:0) deletes them. (Opaque directory
 * markers are not read: they need xattrs, which Node cannot read without spawning.)
 */
export class LayerView implements TreeView {
  private readonly layers: readonly string[];
  constructor(layersTopFirst: readonly string[]) {
    this.layers = layersTopFirst;
  }

  /** The layer that decides `parts`: its stat, or undefined if absent/deleted. */
  private async find(parts: readonly string[]): Promise<{ path: string; st: Stats } | undefined> {
    if (parts.length === 0) {
      const root = this.layers[0];
      if (root === undefined) return undefined;
      return { path: root, st: await lstat(root) };
    }
    for (const layer of this.layers) {
      // An ancestor that is a whiteout or a non-directory in this layer hides everything below.
      let hidden = false;
      let missing = false;
      for (let i = 1; i < parts.length; i++) {
        const st = await lstatOrUndefined(join(layer, ...parts.slice(0, i)));
        if (!st) {
          missing = true;
          break;
        }
        if (!st.isDirectory()) {
          hidden = true;
          break;
        }
      }
      if (hidden) return undefined;
      if (missing) continue;
      const path = join(layer, ...parts);
      const st = await lstatOrUndefined(path);
      if (!st) continue;
      if (isWhiteout(st)) return undefined;
      return { path, st };
    }
    return undefined;
  }

  async lstat(parts: readonly string[]): Promise<TreeEntry | undefined> {
    const f = await this.find(parts);
    return f ? toEntry(f.path, f.st) : undefined;
  }

  async readdir(parts: readonly string[]): Promise<string[]> {
    const seen = new Set<string>();
    const names: string[] = [];
    for (const layer of this.layers) {
      const dir = join(layer, ...parts);
      const st = await lstatOrUndefined(dir);
      if (!st) continue;
      if (!st.isDirectory()) break;
      for (const ent of await readdir(dir, { withFileTypes: true })) {
        if (seen.has(ent.name)) continue;
        seen.add(ent.name);
        const est = await lstat(join(dir, ent.name));
        if (!isWhiteout(est)) names.push(ent.name);
      }
    }
    return names.sort();
  }
}

const MAX_LINKS = 40;

/**
 * Resolve `parts` inside `view`, following symlinks as if its root were `/` (every component, or
 * all but the last with followLast=false). Missing components are kept as they are.
 */
export async function resolveInView(view: TreeView, parts: readonly string[], followLast = true): Promise<string[]> {
  const resolved: string[] = [];
  const queue = [...parts];
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const last = queue.length === 0;
    const e = await view.lstat([...resolved, part]);
    if (e?.type === 'symlink' && (followLast || !last)) {
      if (++links > MAX_LINKS) throw new InvalidParameter(`too many levels of symbolic links: /${parts.join('/')}`);
      const target = e.linkname ?? '';
      if (target.startsWith('/')) resolved.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    resolved.push(part);
  }
  return resolved;
}

/** Path components of a path inside a view (`..` allowed: resolveInView clamps it at the root). */
export function pathParts(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}
