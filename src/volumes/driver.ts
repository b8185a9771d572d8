// The volume driver contract (Docker's VolumeDriver plugin protocol, as an interface): the local
// driver and every plugin implement it; the daemon keeps the volume records and refcounts.

export interface DriverVolume {
  name: string;
  /** Where the volume's data is on the host ('' if the driver only knows it while mounted). */
  mountpoint: string;
  /** Driver-specific status (plugins may report it); shown in `volume inspect` as Status. */
  status?: Record<string, unknown>;
  createdAt?: string;
}

export interface VolumeDriver {
  /** The driver's name as users give it (`local`, or the plugin's name). */
  readonly name: string;
  /** `local` (this host only) or `global` (Docker's Capabilities.Scope). */
  scope(): Promise<'local' | 'global'>;
  create(name: string, options: Record<string, string>): Promise<void>;
  remove(name: string): Promise<void>;
  /** Make the volume available for container `mountId` and return its host path. */
  mount(name: string, mountId: string): Promise<string>;
  unmount(name: string, mountId: string): Promise<void>;
  /** The host path of the volume (for inspect). */
  path(name: string): Promise<string>;
  get(name: string): Promise<DriverVolume | undefined>;
  list(): Promise<DriverVolume[]>;
  /**
   * Re-register a mount that survived a daemon restart (the container is still running), without
   * mounting again. Drivers that count mounts themselves (plugins) need nothing here.
   */
  adopt?(name: string, mountId: string): Promise<void>;
  /** At daemon start, after `adopt`: remove data of volumes without a record and unmount unused ones. */
  sweep?(knownVolumes: ReadonlySet<string>): Promise<void>;
}

/** The label Docker 23+ puts on anonymous volumes; `volume prune` without --all removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** Docker's rule for local volume names (at least two characters). */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
