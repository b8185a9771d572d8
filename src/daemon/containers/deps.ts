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
import type { ContainerConfig, HostConfig, MountPoint } from '../../types/docker.ts';
import type { SpecMount } from '../../types/oci.ts';
import type { LogConfig } from './logconfig.ts';
import type { HealthMonitor } from './health.ts';
import type { ContainerMetrics, OomReporter } from './metrics.ts';
import type { NetworkController } from '../../network/controller.ts';

/** The host operations the container services need (src/os implements them). */
export interface ContainerHost {
  mountAll(mounts: Mount[], target: string): Promise<void>;
  unmount(target: string, opts?: { detach?: boolean }): Promise<void>;
  removeCgroup(cgroupsPath: string): Promise<void>;
}

/** A container's volumes, binds and tmpfs mounts (daemon/volumes implements it; issue 7). */
export interface ContainerVolumes {
  /**
   * At create, before anything is made: resolve the mounts the request asks for, creating the
   * volumes they name. `commit` records them (call it in the transaction that inserts the
   * container); `rollback` removes the volumes made here.
   */
  prepare(id: string, config: ContainerConfig, hostConfig: HostConfig): Promise<{ commit(): void; rollback(): Promise<void> }>;
  /** At start, with the rootfs mounted: mount volumes, copy image content up, return the spec mounts. Undoes its own work on failure. */
  mount(rec: ContainerRecord, rootfs: string): Promise<SpecMount[]>;
  /** After the container stopped (or its start failed): unmount its volumes. Idempotent. */
  release(id: string): Promise<void>;
  /** On removal: forget the container's mounts; with removeAnonymous, remove its anonymous volumes no one else uses. */
  remove(id: string, opts: { removeAnonymous: boolean }): Promise<void>;
  mountPoints(id: string): MountPoint[];
  /** At daemon start, before reconciling: containers whose runtime resources exist (their volumes are mounted). */
  restore(activeIds: readonly string[]): Promise<void>;
  /** At daemon start, after reconciling: remove what a crash left half-made. */
  sweep(knownContainers: ReadonlySet<string>): Promise<void>;
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
  /** The daemon's default log driver and options (berthd --log-driver / --log-opt). */
  logDefaults: LogConfig;
  /** Pending policy restarts and their backoff (issue 3). */
  restarts: RestartManager;
  /** Health check probes (absent where no exec service is wired, as in unit tests). */
  health?: HealthMonitor;
  /** Volumes, binds and tmpfs (absent in unit tests that need none). */
  volumes?: ContainerVolumes;
  /** Networks (issue 6); without it containers get an empty netns, as before. */
  network?: NetworkController;
  /** IDs of the container's exec instances that have not ended (inspect's ExecIDs). */
  execIds?: (containerId: string) => string[];
  /** Announces OOM kills of running containers (issue 3; absent in unit tests). */
  oom?: OomReporter;
  /** cgroup and process metrics for stats, top and OOM detection (issue 3; absent in unit tests). */
  metrics?: ContainerMetrics;
  /** Host facts the spec needs (read once at startup). */
  hostFeatures: { swapLimit?: boolean; nofileLimit?: number; boundingCaps?: readonly string[]; initPath?: string };
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
