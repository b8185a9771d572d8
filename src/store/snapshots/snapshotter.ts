/** A mount as the runtime-spec describes it; snapshotters return these and never mount. */
export interface Mount {
  type: string; // 'overlay' | 'bind'
  source: string;
  options: string[];
}

export interface SnapshotDiff {
  upper: string;
  lowers: string[];
  release(): Promise<void>;
}

export type SnapshotKind = 'committed' | 'active' | 'view';

export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: SnapshotKind;
  created: number;
  /** Bytes used by this snapshot's own directory (not its parents). */
  size: number;
}

/**
 * Snapshotter (containerd's interface): layers are committed snapshots named by chain ID;
 * a container's rootfs is an active snapshot over the image's top layer.
 */
export interface Snapshotter {
  readonly name: string; // 'overlay' | 'vfs' (also the GraphDriver name shown in inspect)
  /**
   * What `upperDir` holds. 'overlay' (the default when absent): only the snapshot's own changes,
   * deletions as overlay whiteouts. 'copy' (vfs): the complete tree, so a layer is unpacked with
   * real deletions and a diff needs the parent to compare with.
   */
  readonly layout?: 'overlay' | 'copy';
  stat(key: string): Promise<SnapshotInfo | undefined>;
  /** A writable snapshot on top of `parent` (a committed key, or none for an empty base). */
  prepare(key: string, parent?: string): Promise<Mount[]>;
  /** A read-only view of `parent`. */
  view(key: string, parent?: string): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  /**
   * Turn the active snapshot `key` into the committed snapshot `name`. `opts.parent` (layout
   * 'overlay' only, where an upper dir does not depend on what lies below it): commit it on top of
   * this committed snapshot instead of the one it was prepared on, so layers can be unpacked before
   * the layers below them are committed.
   */
  commit(name: string, key: string, opts?: { parent?: string }): Promise<void>;
  /** Remove a snapshot; fails with Conflict if it has children. */
  remove(key: string): Promise<void>;
  /**
   * The changes of the active snapshot `key` as an overlay-style upper dir (whiteouts as char
   * device 0:0) and the directories to compare it with (nearest first), for layer tars and
   * `docker diff`. Needed where `upperDir` is not a diff (layout 'copy'); `release` removes
   * whatever was made for it.
   */
  diff?(key: string): Promise<SnapshotDiff>;
  /** The directory a layer can be unpacked into directly (the active snapshot's upper dir). */
  upperDir(key: string): Promise<string>;
  list(): Promise<SnapshotInfo[]>;
  /** Delete directories that have no record (left by a crash). */
  cleanupOrphans(): Promise<number>;
}
