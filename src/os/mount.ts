// Mounting container root filesystems (and volumes with options): mount(2)/umount2(2) through
// libc.ts for the kinds berth makes itself (overlay, bind, tmpfs), mount(8) for anything that may
// need a userspace helper (nfs, cifs, loop devices, ...) or when the libc binding is unavailable.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Mount } from '../store/snapshots/snapshotter.ts';
import { InvalidParameter, SystemError } from '../lib/errors.ts';
import { run } from './exec.ts';
import { libc, type Libc } from './libc.ts';

/**
 * mount(2) takes its data string in one page. A deep image (many lowerdirs) can exceed it;
 * containerd then chdirs into the common parent and uses relative lowerdirs. Not needed yet.
 */
const MOUNT_DATA_MAX = 4095;

// <linux/mount.h>
const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_SYNCHRONOUS = 0x10;
const MS_REMOUNT = 0x20;
const MS_DIRSYNC = 0x80;
const MS_NOSYMFOLLOW = 0x100;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_RELATIME = 0x200000;
const MS_STRICTATIME = 0x1000000;
const MNT_DETACH = 0x2;
const EINVAL = 22;
const ENOENT = 2;

/** mount(8)'s flag options (set or clear a bit); everything else is the filesystem's data. */
const FLAG_OPTIONS: Record<string, [set: boolean, flag: number]> = {
  defaults: [true, 0],
  ro: [true, MS_RDONLY],
  rw: [false, MS_RDONLY],
  nosuid: [true, MS_NOSUID],
  suid: [false, MS_NOSUID],
  nodev: [true, MS_NODEV],
  dev: [false, MS_NODEV],
  noexec: [true, MS_NOEXEC],
  exec: [false, MS_NOEXEC],
  sync: [true, MS_SYNCHRONOUS],
  async: [false, MS_SYNCHRONOUS],
  dirsync: [true, MS_DIRSYNC],
  noatime: [true, MS_NOATIME],
  atime: [false, MS_NOATIME],
  nodiratime: [true, MS_NODIRATIME],
  diratime: [false, MS_NODIRATIME],
  relatime: [true, MS_RELATIME],
  norelatime: [false, MS_RELATIME],
  strictatime: [true, MS_STRICTATIME],
  nostrictatime: [false, MS_STRICTATIME],
  nosymfollow: [true, MS_NOSYMFOLLOW],
  symfollow: [false, MS_NOSYMFOLLOW],
};

/** Filesystem types mounted with mount(2) directly: in-kernel, no helper, no device set-up. */
const DIRECT_TYPES = new Set(['overlay', 'tmpfs']);

/** Options mount(8) consumes itself (fstab and helper options), never passed to the kernel. */
const USERSPACE_OPTION = /^(auto|noauto|nofail|user|nouser|users|owner|group|_netdev|x-.*|comment=.*)$/;

/** Split mount(8)-style options into MS_* flags and the data string. */
export function parseMountOptions(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = f[0] ? flags | f[1] : flags & ~f[1];
    else if (o && !USERSPACE_OPTION.test(o)) data.push(o);
  }
  return { flags, data: data.join(',') };
}

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
  const bind = m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
  const direct = bind || DIRECT_TYPES.has(m.type);
  const c = direct ? await libc() : undefined;
  if (bind) {
    const recursive = m.options.includes('rbind');
    if (c) {
      await sysMount(c, m.source, target, null, MS_BIND | (recursive ? MS_REC : 0), null);
      // A bind mount ignores ro on the first call; it takes a remount.
      if (opts.includes('ro')) await sysMount(c, '', target, null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      return;
    }
    await run('mount', [recursive ? '--rbind' : '--bind', m.source, target]);
    if (opts.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
    return;
  }
  const data = opts.join(',');
  if (data.length > MOUNT_DATA_MAX) {
    throw new InvalidParameter(`mount options for ${target} are ${data.length} bytes, over the ${MOUNT_DATA_MAX}-byte page limit (too many layers)`);
  }
  if (c) {
    const parsed = parseMountOptions(opts);
    await sysMount(c, m.source || m.type, target, m.type, parsed.flags, parsed.data || null);
    return;
  }
  const args = ['-t', m.type];
  if (data) args.push('-o', data);
  args.push(m.source || m.type, target);
  await run('mount', args);
}

async function sysMount(c: Libc, source: string, target: string, fstype: string | null, flags: number, data: string | null): Promise<void> {
  const errno = await c.mount(source, target, fstype, flags, data);
  if (errno !== 0) throw new SystemError(`mount ${fstype ?? 'bind'} ${source} on ${target}: ${c.strerror(errno)}`);
}

export interface UnmountOptions {
  /** Lazy unmount (MNT_DETACH): succeeds even while something still uses the mount. */
  detach?: boolean;
}

/** Unmount `target`; a target that is not mounted (or does not exist) is not an error. */
export async function unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
  const c = await libc();
  if (c) {
    const errno = await c.umount2(target, opts.detach ? MNT_DETACH : 0);
    if (errno === 0 || errno === EINVAL || errno === ENOENT) return;
    throw new SystemError(`umount ${target}: ${c.strerror(errno)}`);
  }
  const args = opts.detach ? ['-l', target] : [target];
  const res = await run('umount', args, { allowFailure: true });
  if (res.code === 0) return;
  if (/not mounted|no mount point specified|No such file or directory|not found/i.test(res.stderr)) return;
  throw new SystemError(`umount ${target}: ${res.stderr.trim()}`);
}

/** Undo mountinfo's octal escapes (space, tab, newline, backslash). */
export function unescapeMountPath(s: string): string {
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
