// koffi (a prebuilt FFI module) bound to libc, loaded once and shared by the modules that call libc
// directly (libc.ts: mount/umount2/syncfs; posix-spawn.ts). Undefined when it cannot load (another
// platform, no prebuilt binary): callers then fall back to spawning commands.
import { log } from '../lib/logger.ts';

// Subset of the koffi API used here (its own typings describe far more).
export interface KoffiFn {
  async(...args: unknown[]): void;
  (...args: unknown[]): unknown;
}
export interface Koffi {
  load(path: string): { func(decl: string): KoffiFn };
  errno(): number;
  config(opts: Record<string, number>): void;
}
export interface KoffiLibc {
  koffi: Koffi;
  /** Declare a libc function, e.g. `func('int close(int fd)')`. */
  func(decl: string): KoffiFn;
}

let loaded: Promise<KoffiLibc | undefined> | undefined;

export function koffiLibc(): Promise<KoffiLibc | undefined> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<KoffiLibc | undefined> {
  if (process.platform !== 'linux') return undefined;
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default as unknown as Koffi;
  } catch (err) {
    log.warn('koffi unavailable; libc calls fall back to commands', { error: err });
    return undefined;
  }
  try {
    // Calls are few and small: keep the per-thread pools koffi preallocates small. config() only
    // works before the first call, which is why it is made here, once.
    koffi.config({ sync_stack_size: 64 * 1024, sync_heap_size: 64 * 1024, async_stack_size: 64 * 1024, async_heap_size: 64 * 1024, resident_async_pools: 2 });
    const lib = koffi.load('libc.so.6'); // glibc's soname: absent on musl, where commands are used
    return { koffi, func: (decl) => lib.func(decl) };
  } catch (err) {
    log.warn('libc not loadable through koffi; libc calls fall back to commands', { error: err });
    return undefined;
  }
}
