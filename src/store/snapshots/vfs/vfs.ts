import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../../lib/errors.ts';
import { copyTree } from '../../../os/copy.ts';
import type { MetaDb } from '../../meta/db.ts';
import { SnapshotRecords, diskUsage } from '../records.ts';
import type { Mount, SnapshotDiff, SnapshotInfo, Snapshotter } from '../snapshotter.ts';
import { diffTrees } from './diff.ts';

export interface VfsSnapshotterOptions {
  /** `<dataRoot>/snapshots`: one directory per snapshot, `<id>/fs` holds a complete tree. */
  root: string;
  db: MetaDb;
}

/**
 * The `vfs` snapshotter (Docker's vfs graph driver): no union filesystem, every snapshot is a full
 * copy of its parent, so it works on any filesystem (including overlayfs itself, or one without
 * d_type) at the price of disk space and a copy per container start-up. Layers are unpacked with
 * real deletions for whiteouts (`layout: 'copy'`). A view is a read-only bind of the committed
 * parent (committed snapshots never change). Records and crash rules are SnapshotRecords', as for
 * the overlay snapshotter.
 */
export class VfsSnapshotter implements Snapshotter {
  readonly name = 'vfs';
  readonly layout = 'copy' as const;
  readonly root: string;
  private readonly records: SnapshotRecords;

  constructor(opts: VfsSnapshotterOptions) {
    this.root = opts.root;
    this.records = new SnapshotRecords(opts.root, opts.db);
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    return this.records.stat(key);
  }

  async list(): Promise<SnapshotInfo[]> {
    return this.records.list();
  }

  async prepare(key: string, parent?: string): Promise<Mount[]> {
    // An active snapshot starts as a complete copy of its parent.
    await this.records.create('active', key, parent, async (tmp, parentRow) => {
      if (parentRow) await copyTree(this.records.fsDir(parentRow.id), join(tmp, 'fs'));
    });
    return this.mounts(key);
  }

  async view(key: string, parent?: string): Promise<Mount[]> {
    // A view reads the committed parent itself.
    await this.records.create('view', key, parent, async () => {});
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.records.mustRow(key);
    if (r.kind === 'active') return [{ type: 'bind', source: this.records.fsDir(r.id), options: ['rbind', 'rw'] }];
    const base = r.kind === 'view' && r.parent !== null ? this.records.mustRow(r.parent) : r;
    return [{ type: 'bind', source: this.records.fsDir(base.id), options: ['rbind', 'ro'] }];
  }

  async commit(name: string, key: string, opts: { parent?: string } = {}): Promise<void> {
    const r = this.records.mustRow(key);
    if (r.kind !== 'active') throw new InvalidParameter(`snapshot ${key} is not active`);
    // The directory holds the whole tree on top of its parent: it cannot move to another one.
    if (opts.parent !== undefined && opts.parent !== r.parent) throw new InvalidParameter(`vfs snapshot ${key} cannot be committed on another parent`);
    // A layer's size is what it adds over its parent (the directory holds the whole tree).
    const total = await diskUsage(this.records.fsDir(r.id));
    const parentTotal = r.parent !== null ? await diskUsage(this.records.fsDir(this.records.mustRow(r.parent).id)) : 0;
    this.records.commit(name, key, Math.max(0, total - parentTotal));
  }

  async remove(key: string): Promise<void> {
    await this.records.remove(key);
  }

  async diff(key: string): Promise<SnapshotDiff> {
    const r = this.records.mustRow(key);
    const parent = r.parent !== null ? this.records.fsDir(this.records.mustRow(r.parent).id) : undefined;
    const out = await this.records.scratchDir('diff');
    try {
      await diffTrees(this.records.fsDir(r.id), parent, out);
    } catch (err) {
      await rm(out, { recursive: true, force: true });
      throw err;
    }
    return { upper: out, lowers: parent ? [parent] : [], release: () => rm(out, { recursive: true, force: true }) };
  }

  /** The snapshot's own directory: for vfs, the complete tree (not a diff). */
  async upperDir(key: string): Promise<string> {
    return this.records.fsDir(this.records.mustRow(key).id);
  }

  async cleanupOrphans(): Promise<number> {
    return this.records.cleanupOrphans();
  }
}
