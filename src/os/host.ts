// The host operations daemon logic needs, behind one interface so it can be unit-tested with a fake.
import type { Mount } from '../store/snapshots/snapshotter.ts';
import { run, type RunOptions, type RunResult } from './exec.ts';
import { mountAll, unmount, isMounted, type UnmountOptions } from './mount.ts';
import { removeCgroup, listCgroupChildren } from './cgroups.ts';

export interface Host {
  mountAll(mounts: readonly Mount[], target: string): Promise<void>;
  unmount(target: string, opts?: UnmountOptions): Promise<void>;
  isMounted(target: string): Promise<boolean>;
  removeCgroup(cgroupsPath: string): Promise<void>;
  listCgroupChildren(parent: string): Promise<string[]>;
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export const realHost: Host = { mountAll, unmount, isMounted, removeCgroup, listCgroupChildren, run };
