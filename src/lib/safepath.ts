import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from './errors.ts';

// Path handling for untrusted archive entries. Two rules keep every write inside a root:
// 1. entry names are split into components and `..` is refused (no lexical escape);
// 2. symlinks met on the way are resolved as if `root` were `/` (chroot semantics), so a hostile
//    symlink such as `etc -> /etc` or `x -> ../../..` can only ever point back inside the root.

const MAX_SYMLINKS = 40; // Linux's own limit (ELOOP)

/**
 * The components of an archive entry name: leading `/` and `./` removed, empty and `.` parts
 * dropped. Throws InvalidParameter on `..` or NUL.
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw new InvalidParameter(`invalid path in archive: ${JSON.stringify(name)}`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidParameter(`invalid path in archive (escapes the root): ${name}`);
  return parts;
}

/** Join root and components lexically (components must come from entryComponents). */
export function joinInside(root: string, parts: readonly string[]): string {
  return parts.length === 0 ? root : join(root, ...parts);
}

async function lstatOrUndefined(path: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Resolve `parts` inside `root`, following symlinks in scope (chroot semantics) for every
 * component but the last one, which is returned unresolved so the caller can create or replace it.
 * Missing components are kept as they are (the caller creates them). The result is always
 * `root` or below it.
 */
export async function resolveParentInScope(root: string, parts: readonly string[]): Promise<string[]> {
  if (parts.length === 0) return [];
  const parent = await resolveInScope(root, parts.slice(0, -1));
  return [...parent, parts[parts.length - 1]];
}

/** Resolve every component of `parts` inside `root`, following symlinks in scope. */
export async function resolveInScope(root: string, parts: readonly string[]): Promise<string[]> {
  const resolved: string[] = [];
  const queue = [...parts];
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop(); // `..` at the root stays at the root, as in a chroot
      continue;
    }
    const candidate = joinInside(root, [...resolved, part]);
    const st = await lstatOrUndefined(candidate);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new InvalidParameter(`too many levels of symbolic links: ${parts.join('/')}`);
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    resolved.push(part);
  }
  return resolved;
}

/** Join a relative path under root, refusing anything that would leave it (`..`, absolute). */
export function safeJoin(root: string, relative: string): string {
  return joinInside(root, entryComponents(relative));
}
