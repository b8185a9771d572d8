// Resolve a path inside a container rootfs the way the container would see it: symlinks (absolute or
// relative, including `..`) are followed but can never leave the rootfs (like filepath-securejoin).
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidParameter } from '../../lib/errors.ts';

const MAX_SYMLINKS = 255;

/** Host path for container path `p` under `root`; missing components are kept as they are. */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  return resolveInRootSync(root, p);
}

/**
 * resolveInRoot without the thread pool: a few lstat calls on the container's rootfs, each a
 * fraction of an async round trip (exec and create resolve /etc/passwd and /etc/group this way).
 */
export function resolveInRootSync(root: string, p: string): string {
  let pending = p.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop(); // `..` at the container's root stays at the root
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      done.push(part, ...pending.filter((x) => x !== '.'));
      break;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new InvalidParameter(`too many symlinks resolving ${p} in container rootfs`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  // `..` left in an unresolved tail is clamped too.
  const clean: string[] = [];
  for (const part of done) {
    if (part === '..') clean.pop();
    else clean.push(part);
  }
  return join(root, ...clean);
}
