// The few libc calls berthd makes directly (mount(2), umount2(2)) through koffi, a prebuilt FFI
// module: each replaces a mount(8)/umount(8) process (a fork of the whole daemon plus an exec,
// ~4 ms each on the run path). Loaded on first use; if koffi cannot load (another platform, no
// binary), callers fall back to the commands.
import { log } from '../lib/logger.ts';

/** Result of a call: 0 or the errno it failed with. */
export type Errno = number;

export interface Libc {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): Promise<Errno>;
  umount2(target: string, flags: number): Promise<Errno>;
  /** syncfs(2): write back the whole file system holding the open file `fd`. */
  syncfs(fd: number): Promise<Errno>;
  strerror(errno: Errno): string;
}

// Subset of the koffi API used here (its own typings describe far more).
interface KoffiFn {
  async(...args: unknown[]): void;
  (...args: unknown[]): unknown;
}
interface Koffi {
  load(path: string): { func(decl: string): KoffiFn };
  errno(): number;
  config(opts: Record<string, number>): void;
}

let loaded: Promise<Libc | undefined> | undefined;

/** The libc binding, or undefined when koffi is unavailable. */
export function libc(): Promise<Libc | undefined> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Libc | undefined> {
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default as unknown as Koffi;
  } catch (err) {
    log.warn('koffi unavailable; mounting through mount(8)', { error: err });
    return undefined;
  }
  // Calls here are few and small: keep the per-thread pools koffi preallocates small.
  try {
    koffi.config({ sync_stack_size: 64 * 1024, sync_heap_size: 64 * 1024, async_stack_size: 64 * 1024, async_heap_size: 64 * 1024, resident_async_pools: 2 });
  } catch {
    // config can only be set before the first call; defaults are fine too
  }
  const lib = koffi.load('libc.so.6');
  const mountFn = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const umountFn = lib.func('int umount2(const char *target, int flags)');
  const strerrorFn = lib.func('const char *strerror(int errnum)');
  const syncfsFn = lib.func('int syncfs(int fd)');
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
