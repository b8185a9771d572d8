import { join } from 'node:path';
import type { EventBus } from '../../lib/events.ts';
import type { KeyedLock } from '../../lib/keyedlock.ts';
import type { ContainerRuntime } from '../../runtime/types.ts';
import type { ImageResolver } from '../../store/images/types.ts';
import type { Mount, Snapshotter } from '../../store/snapshots/snapshotter.ts';
import type { ContainerRepo } from './repo.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { ContainerRecord } from './record.ts';
import type { RestartManager } from './restartpolicy.ts';

/** The host operations the container services need (src/os implements them). */
export interface ContainerHost {
  mountAll(mounts: Mount[], target: string): Promise<void>;
  unmount(target: string, opts?: { detach?: boolean }): Promise<void>;
  removeCgroup(cgroupsPath: string): Promise<void>;
}

/** What every container operation receives: backends by interface, wired in cmd/berthd.ts. */
export interface ContainerDeps {
  repo: ContainerRepo;
  images: ImageResolver;
  snapshots: Snapshotter;
  runtime: ContainerRuntime;
  host: ContainerHost;
  events: EventBus;
  lifecycle: Lifecycle;
  locks: KeyedLock;
  /** <dataRoot>/containers: per-container files that persist (log, hosts, resolv.conf). */
  containersDir: string;
  /** <execRoot>/containers: bundles and rootfs mountpoints (runtime state, gone at reboot). */
  bundlesDir: string;
  cgroupParent: string;
  runtimeName: string;
  storageDriver: string;
  /** Pending policy restarts and their backoff (issue 3). */
  restarts: RestartManager;
  /** Host facts the spec needs (read once at startup). */
  hostFeatures: { swapLimit?: boolean; nofileLimit?: number };
}

export function containerPaths(deps: Pick<ContainerDeps, 'containersDir' | 'bundlesDir' | 'cgroupParent'>, id: string) {
  const dataDir = join(deps.containersDir, id);
  const bundleDir = join(deps.bundlesDir, id);
  return {
    dataDir,
    logPath: join(dataDir, `${id}-json.log`),
    hostsPath: join(dataDir, 'hosts'),
    resolvConfPath: join(dataDir, 'resolv.conf'),
    hostnamePath: join(dataDir, 'hostname'),
    bundleDir,
    rootfs: join(bundleDir, 'rootfs'),
    cgroupsPath: `/${deps.cgroupParent}/${id}`,
  };
}

/** Attributes of container events: image, name and the container's labels. */
export function eventAttributes(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(rec.config.Labels ?? {}), image: rec.imageRef, name: rec.name, ...extra };
}
