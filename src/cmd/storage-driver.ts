// Choosing the storage driver (snapshotter) of a data root: --storage-driver, else the driver the
// data root was made with, else overlay. A data root keeps the driver it was made with, as dockerd
// keeps one directory per graph driver: switching would leave every image pointing at layers the
// other driver cannot read, so a different --storage-driver on a non-empty data root is refused.
import type { MetaDb } from '../store/meta/db.ts';
import { getSetting, setSetting } from '../store/meta/settings.ts';
import type { Snapshotter } from '../store/snapshots/snapshotter.ts';
import { OverlaySnapshotter } from '../store/snapshots/overlay/overlay.ts';
import { VfsSnapshotter } from '../store/snapshots/vfs/vfs.ts';
import { backingFilesystem, supportsDType } from '../os/statfs.ts';

export interface StorageDriverChoice {
  snapshotter: Snapshotter;
  /** The name dockerd shows: overlay2 or vfs. */
  displayName: string;
  backingFs: string;
  /** `info`'s DriverStatus. */
  status: Array<[string, string]>;
}

export async function openStorageDriver(opts: { requested?: 'overlay' | 'vfs'; db: MetaDb; root: string; dataRoot: string }): Promise<StorageDriverChoice> {
  const recorded = getSetting(opts.db, 'storage-driver') as 'overlay' | 'vfs' | undefined;
  const hasLayers = (opts.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM snapshots')?.n ?? 0) > 0;
  const driver = opts.requested ?? recorded ?? 'overlay';
  if (recorded && recorded !== driver && hasLayers) {
    throw new Error(`the data root ${opts.dataRoot} holds layers of the ${recorded} storage driver; start with --storage-driver ${recorded} or use another --data-root`);
  }
  const backingFs = await backingFilesystem(opts.dataRoot);
  if (driver === 'overlay' && backingFs === 'overlayfs') {
    throw new Error(`'overlay' is not supported over overlayfs (the data root ${opts.dataRoot}); use --storage-driver vfs`);
  }
  const dType = driver === 'overlay' ? await supportsDType(opts.dataRoot) : true;
  if (!dType) {
    throw new Error(`overlay needs a backing filesystem with d_type support, which ${opts.dataRoot} (${backingFs}) lacks; use --storage-driver vfs`);
  }
  if (recorded !== driver) opts.db.tx(() => setSetting(opts.db, 'storage-driver', driver));
  if (driver === 'vfs') {
    return { snapshotter: new VfsSnapshotter({ root: opts.root, db: opts.db }), displayName: 'vfs', backingFs, status: [['Backing Filesystem', backingFs]] };
  }
  return {
    snapshotter: new OverlaySnapshotter({ root: opts.root, db: opts.db }),
    displayName: 'overlay2',
    backingFs,
    status: [['Backing Filesystem', backingFs], ['Supports d_type', String(dType)], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
  };
}
