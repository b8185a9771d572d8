import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../../lib/errors.ts';
import type { MetaDb } from '../../meta/db.ts';
import { SnapshotRecords, diskUsage } from '../records.ts';
import type { Mount, SnapshotInfo, Snapshotter } from '../snapshotter.ts';

export interface OverlaySnapshotterOptions {
  /** `<dataRoot>/snapshots`: one directory per snapshot, `<id>/{fs,work}`. */
  root: string;
  db: MetaDb;
}

/**
 * Overlayfs snapshotter in containerd's shape. Each snapshot owns `<root>/<id>/fs` (its layer, or
 * the upper dir of an active snapshot) and `<root>/<id>/work` (overlay's workdir). Records and
 * crash rules are SnapshotRecords'. It only computes mounts; mounting is the caller's job.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly name = 'overlay';
  readonly root: string;
  private readonly records: SnapshotRecords;

  constructor(opts: OverlaySnapshotterOptions) {
    this.root = opts.root;
    this.records = new SnapshotRecords(opts.root, opts.db);
  }

  private workDir(id: string): string {
    return join(this.root, id, 'work');
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    return this.records.stat(key);
  }

  async list(): Promise<SnapshotInfo[]> {
    return this.records.list();
  }

  /** The fs directories of `key` and its ancestors, nearest first (overlay's lowerdir order). */
  private chainDirs(key: string): string[] {
    const dirs: string[] = [];
    let cur: string | null = key;
    while (cur !== null) {
      const r = this.records.mustRow(cur);
      dirs.push(this.records.fsDir(r.id));
      cur = r.parent;
    }
    return dirs;
  }

  async prepare(key: string, parent?: string): Promise<Mount[]> {
    await this.records.create('active', key, parent, async (tmp) => {
      await mkdir(join(tmp, 'work'), { mode: 0o700 });
    });
    return this.mounts(key);
  }

  async view(key: string, parent?: string): Promise<Mount[]> {
    await this.records.create('view', key, parent, async () => {});
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.records.mustRow(key);
    if (r.kind === 'active') {
      const own = this.records.fsDir(r.id);
      if (r.parent === null) return [{ type: 'bind', source: own, options: ['rbind', 'rw'] }];
      const lowers = this.chainDirs(r.parent);
      return [{ type: 'overlay', source: 'overlay', options: [`workdir=${this.workDir(r.id)}`, `upperdir=${own}`, `lowerdir=${lowers.join(':')}`] }];
    }
    // A view (or a committed layer) is read-only: a single directory is bound read-only, since
    // overlay refuses a read-only mount with one lower dir; several become an overlay without upper.
    const base = r.kind === 'view' ? r.parent : r.key;
    if (base === null) return [{ type: 'bind', source: this.records.fsDir(r.id), options: ['rbind', 'ro'] }];
    const lowers = this.chainDirs(base);
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0], options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }];
  }

  async commit(name: string, key: string, opts: { parent?: string } = {}): Promise<void> {
    const r = this.records.mustRow(key);
    if (r.kind !== 'active') throw new InvalidParameter(`snapshot ${key} is not active`);
    this.records.commit(name, key, await diskUsage(this.records.fsDir(r.id)), opts.parent);
    // A committed layer never becomes an upper dir again; its work dir is dead weight.
    await rm(this.workDir(r.id), { recursive: true, force: true });
  }

  async remove(key: string): Promise<void> {
    await this.records.remove(key);
  }

  async upperDir(key: string): Promise<string> {
    return this.records.fsDir(this.records.mustRow(key).id);
  }

  async cleanupOrphans(): Promise<number> {
    return this.records.cleanupOrphans();
  }
}
