// The few libc calls berthd makes directly (mount(2), umount2(2)) through koffi, a prebuilt FFI
// module: each replaces a mount(8)/umount(8) process (a fork of the whole daemon plus an exec,
// ~4 ms each on the run path). Loaded on first use; if koffi cannot load (another platform, no
// binary), callers fall back to the commands.
import { koffiLibc, type KoffiFn } from './koffi.ts';

/** Result of a call: 0 or the errno it failed with. */
export type Errno = number;

export interface Libc {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): Promise<Errno>;
  umount2(target: string, flags: number): Promise<Errno>;
  /** syncfs(2): write back the whole file system holding the open file `fd`. */
  syncfs(fd: number): Promise<Errno>;
  strerror(errno: Errno): string;
}

let loaded: Promise<Libc | undefined> | undefined;

/** The libc binding, or undefined when koffi is unavailable. */
export function libc(): Promise<Libc | undefined> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Libc | undefined> {
  const bound = await koffiLibc();
  if (!bound) return undefined;
  const { koffi, func } = bound;
  const mountFn = func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const umountFn = func('int umount2(const char *target, int flags)');
  const strerrorFn = func('const char *strerror(int errnum)');
  const syncfsFn = func('int syncfs(int fd)');
  // Async calls run on a worker thread (an unmount may wait for writeback); koffi hands the
  // worker's errno to the main thread before the callback runs.
  const call = (fn: KoffiFn, args: unknown[]): Promise<Errno> =>
    new Promise((resolve, reject) => {
      fn.async(...args, (err: Error | null, res: number) => {
        if (err) reject(err);
        else resolve(res === 0 ? 0 : koffi.errno() || -1);
      });
    });
  return {
    mount: (source, target, fstype, flags, data) => call(mountFn, [source, target, fstype, flags, data]),
    umount2: (target, flags) => call(umountFn, [target, flags]),
    syncfs: (fd) => call(syncfsFn, [fd]),
    strerror: (errno) => (errno > 0 ? String(strerrorFn(errno)) : 'unknown error'),
  };
}
