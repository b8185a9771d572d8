// Mounting container root filesystems with mount(8)/umount(8).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Mount } from '../store/snapshots/snapshotter.ts';
import { InvalidParameter, SystemError } from '../lib/errors.ts';
import { run } from './exec.ts';

/**
 * mount(2) takes its data string in one page. A deep image (many lowerdirs) can exceed it;
 * containerd then chdirs into the common parent and uses relative lowerdirs. Not needed yet.
 */
const MOUNT_DATA_MAX = 4095;

/** Mount every entry onto `target` in order (an overlay rootfs is one entry; bind views are one too). */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  const done: string[] = [];
  try {
    for (const m of mounts) {
      await mountOne(m, target);
      done.push(target);
    }
  } catch (err) {
    for (const t of done.reverse()) await unmount(t, { detach: true }).catch(() => {});
    throw err;
  }
}

async function mountOne(m: Mount, target: string): Promise<void> {
  const opts = m.options.filter((o) => o !== 'bind' && o !== 'rbind');
  if (m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) {
    const recursive = m.options.includes('rbind');
    await run('mount', [recursive ? '--rbind' : '--bind', m.source, target]);
    // A bind mount ignores ro on the first call; it takes a remount.
    if (opts.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
    return;
  }
  const data = opts.join(',');
  if (data.length > MOUNT_DATA_MAX) {
    throw new InvalidParameter(`mount options for ${target} are ${data.length} bytes, over the ${MOUNT_DATA_MAX}-byte page limit (too many layers)`);
  }
  const args = ['-t', m.type];
  if (data) args.push('-o', data);
  args.push(m.source || m.type, target);
  await run('mount', args);
}

export interface UnmountOptions {
  /** Lazy unmount (MNT_DETACH): succeeds even while something still uses the mount. */
  detach?: boolean;
}

/** Unmount `target`; a target that is not mounted (or does not exist) is not an error. */
export async function unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
  const args = opts.detach ? ['-l', target] : [target];
  const res = await run('umount', args, { allowFailure: true });
  if (res.code === 0) return;
  if (/not mounted|no mount point specified|No such file or directory|not found/i.test(res.stderr)) return;
  throw new SystemError(`umount ${target}: ${res.stderr.trim()}`);
}

/** Undo mountinfo's octal escapes (space, tab, newline, backslash). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.push(unescapeMountPath(f[4]));
  }
  return out;
}

export async function isMounted(target: string): Promise<boolean> {
  const want = resolve(target);
  return (await mountPoints()).includes(want);
}
