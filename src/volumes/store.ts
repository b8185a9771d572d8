import type { MetaDb } from '../store/meta/db.ts';

/** A volume as the daemon records it (the driver holds the data). */
export interface VolumeRecord {
  name: string;
  driver: string;
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  anonymous: boolean;
  /** Unix milliseconds. */
  created: number;
}

/**
 * One mount of a container, resolved at create time: Docker's MountPoint fields (shown by inspect
 * and ps) plus what start needs to set it up again.
 */
export interface MountRecord {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (type volume). */
  Name?: string;
  /** Host path (bind), volume mountpoint (volume, filled at start), '' for tmpfs. */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Copy the image's content at Destination into an empty volume at start (not `nocopy`). */
  copyData?: boolean;
  /** `-v /host:/ctr` creates a missing host path; `--mount type=bind` refuses it. */
  createHostPath?: boolean;
  /** tmpfs mount options (size=, mode=). */
  tmpfsOptions?: string[];
  /** Subpath of the volume to mount (`--mount volume-subpath=`). */
  subpath?: string;
}

interface VolumeRow {
  name: string;
  driver: string;
  labels: string;
  options: string;
  anonymous: number;
  created: number;
}

function toRecord(r: VolumeRow): VolumeRecord {
  return {
    name: r.name,
    driver: r.driver,
    labels: JSON.parse(r.labels) as Record<string, string> | null,
    options: JSON.parse(r.options) as Record<string, string> | null,
    anonymous: r.anonymous === 1,
    created: Number(r.created),
  };
}

/**
 * Volume records and container mounts in SQLite. Which containers use a volume is a query over
 * `container_mounts`, so the refcount that guards `volume rm` is rebuilt from the database at
 * every start and cannot drift. A write-through map serves each container's mounts to ps/inspect.
 */
export class VolumeStore {
  private readonly db: MetaDb;
  private readonly mountsById = new Map<string, MountRecord[]>();

  constructor(db: MetaDb) {
    this.db = db;
    for (const row of db.all<{ container_id: string; data: string }>('SELECT container_id, data FROM container_mounts ORDER BY rowid')) {
      const list = this.mountsById.get(row.container_id) ?? [];
      list.push(JSON.parse(row.data) as MountRecord);
      this.mountsById.set(row.container_id, list);
    }
  }

  tx<T>(fn: () => T): T {
    return this.db.tx(fn);
  }

  get(name: string): VolumeRecord | undefined {
    const r = this.db.get<VolumeRow>('SELECT * FROM volumes WHERE name = ?', name);
    return r ? toRecord(r) : undefined;
  }

  list(): VolumeRecord[] {
    return this.db.all<VolumeRow>('SELECT * FROM volumes ORDER BY name').map(toRecord);
  }

  insert(v: VolumeRecord): void {
    this.db.run(
      'INSERT INTO volumes (name, driver, labels, options, anonymous, created) VALUES (?, ?, ?, ?, ?, ?)',
      v.name, v.driver, JSON.stringify(v.labels), JSON.stringify(v.options), v.anonymous ? 1 : 0, v.created,
    );
  }

  delete(name: string): void {
    this.db.run('DELETE FROM volumes WHERE name = ?', name);
  }

  /** IDs of the containers (any state) that mount the volume. */
  users(name: string): string[] {
    return this.db.all<{ container_id: string }>('SELECT DISTINCT container_id FROM container_mounts WHERE volume = ?', name).map((r) => r.container_id);
  }

  /** Number of containers using each volume. */
  refCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.db.all<{ volume: string; n: number }>("SELECT volume, COUNT(DISTINCT container_id) AS n FROM container_mounts WHERE volume != '' GROUP BY volume")) {
      out.set(r.volume, Number(r.n));
    }
    return out;
  }

  mounts(containerId: string): MountRecord[] {
    return this.mountsById.get(containerId) ?? [];
  }

  containerIds(): string[] {
    return [...this.mountsById.keys()];
  }

  /** Record a container's mounts (call inside the transaction that inserts the container). */
  setMounts(containerId: string, mounts: readonly MountRecord[]): void {
    this.db.tx(() => {
      this.db.run('DELETE FROM container_mounts WHERE container_id = ?', containerId);
      for (const m of mounts) {
        this.db.run('INSERT INTO container_mounts (container_id, destination, volume, data) VALUES (?, ?, ?, ?)', containerId, m.Destination, m.Type === 'volume' ? (m.Name ?? '') : '', JSON.stringify(m));
      }
    });
    if (mounts.length) this.mountsById.set(containerId, [...mounts]);
    else this.mountsById.delete(containerId);
  }

  deleteMounts(containerId: string): void {
    this.db.run('DELETE FROM container_mounts WHERE container_id = ?', containerId);
    this.mountsById.delete(containerId);
  }
}
