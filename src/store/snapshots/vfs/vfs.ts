import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../../lib/errors.ts';
import { fsyncDir } from '../../../lib/atomic.ts';
import { copyTree } from '../../../os/copy.ts';
import type { MetaDb } from '../../meta/db.ts';
import type { Mount, SnapshotDiff, SnapshotInfo, SnapshotKind, Snapshotter } from '../snapshotter.ts';
import { diffTrees } from './diff.ts';

export interface VfsSnapshotterOptions {
  /** `<dataRoot>/snapshots`: one directory per snapshot, `<id>/fs` holds a complete tree. */
  root: string;
  db: MetaDb;
}

interface SnapshotRow {
  key: string;
  id: string;
  parent: string | null;
  kind: SnapshotKind;
  size: number;
  created: number;
}

const TMP_PREFIX = '.tmp-';
const RM_PREFIX = '.rm-';

/**
 * The `vfs` snapshotter (Docker's vfs graph driver): no union filesystem, every snapshot is a full
 * copy of its parent, so it works on any filesystem (including overlayfs itself, or one without
 * d_type) at the price of disk space and a copy per container start-up. Layers are unpacked with
 * real deletions for whiteouts (`layout: 'copy'`). A view is a read-only bind of the committed
 * parent (committed snapshots never change). Same records and crash rules as the overlay
 * snapshotter: directories are made under a temporary name and renamed before the row is written;
 * removal deletes the row first; `cleanupOrphans` deletes directories without a row.
 */
export class VfsSnapshotter implements Snapshotter {
  readonly name = 'vfs';
  readonly layout = 'copy' as const;
  readonly root: string;
  private readonly db: MetaDb;

  constructor(opts: VfsSnapshotterOptions) {
    this.root = opts.root;
    this.db = opts.db;
  }

  private row(key: string): SnapshotRow | undefined {
    return this.db.get<SnapshotRow>('SELECT key, id, parent, kind, size, created FROM snapshots WHERE key = ?', key);
  }

  private mustRow(key: string): SnapshotRow {
    const r = this.row(key);
    if (!r) throw new NotFound(`snapshot ${key} does not exist`);
    return r;
  }

  private fsDir(id: string): string {
    return join(this.root, id, 'fs');
  }

  private info(r: SnapshotRow): SnapshotInfo {
    const info: SnapshotInfo = { key: r.key, kind: r.kind, created: r.created, size: r.size };
    if (r.parent !== null) info.parent = r.parent;
    return info;
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    const r = this.row(key);
    return r ? this.info(r) : undefined;
  }

  async list(): Promise<SnapshotInfo[]> {
    return this.db.all<SnapshotRow>('SELECT key, id, parent, kind, size, created FROM snapshots ORDER BY created').map((r) => this.info(r));
  }

  async prepare(key: string, parent?: string): Promise<Mount[]> {
    return this.create('active', key, parent);
  }

  async view(key: string, parent?: string): Promise<Mount[]> {
    return this.create('view', key, parent);
  }

  private async create(kind: 'active' | 'view', key: string, parent: string | undefined): Promise<Mount[]> {
    if (key === '') throw new InvalidParameter('snapshot key must not be empty');
    if (this.row(key)) throw new Conflict(`snapshot ${key} already exists`);
    let parentRow: SnapshotRow | undefined;
    if (parent !== undefined) {
      parentRow = this.mustRow(parent);
      if (parentRow.kind !== 'committed') throw new InvalidParameter(`snapshot ${parent} is not committed, cannot be a parent`);
    }
    const id = randomBytes(16).toString('hex');
    const tmp = join(this.root, TMP_PREFIX + id);
    try {
      await mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      // An active snapshot starts as a complete copy of its parent; a view reads the parent itself.
      if (kind === 'active' && parentRow) await copyTree(this.fsDir(parentRow.id), join(tmp, 'fs'));
      await rename(tmp, join(this.root, id));
      await fsyncDir(this.root);
      this.db.tx(() => {
        if (this.row(key)) throw new Conflict(`snapshot ${key} already exists`);
        if (parent !== undefined && !this.row(parent)) throw new NotFound(`snapshot ${parent} does not exist`);
        this.db.run('INSERT INTO snapshots (key, id, parent, kind, size, created) VALUES (?, ?, ?, ?, 0, ?)', key, id, parent ?? null, kind, Date.now());
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      await rm(join(this.root, id), { recursive: true, force: true });
      throw err;
    }
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.mustRow(key);
    if (r.kind === 'active') return [{ type: 'bind', source: this.fsDir(r.id), options: ['rbind', 'rw'] }];
    const base = r.kind === 'view' && r.parent !== null ? this.mustRow(r.parent) : r;
    return [{ type: 'bind', source: this.fsDir(base.id), options: ['rbind', 'ro'] }];
  }

  async commit(name: string, key: string): Promise<void> {
    const r = this.mustRow(key);
    if (r.kind !== 'active') throw new InvalidParameter(`snapshot ${key} is not active`);
    // A layer's size is what it adds over its parent (the directory holds the whole tree).
    const total = await diskUsage(this.fsDir(r.id));
    const parentTotal = r.parent !== null ? await diskUsage(this.fsDir(this.mustRow(r.parent).id)) : 0;
    const size = Math.max(0, total - parentTotal);
    this.db.tx(() => {
      if (this.row(name)) throw new Conflict(`snapshot ${name} already exists`);
      const cur = this.row(key);
      if (!cur || cur.kind !== 'active') throw new NotFound(`snapshot ${key} does not exist`);
      this.db.run("UPDATE snapshots SET key = ?, kind = 'committed', size = ? WHERE key = ?", name, size, key);
    });
  }

  async remove(key: string): Promise<void> {
    const r = this.mustRow(key);
    this.db.tx(() => {
      const child = this.db.get<{ key: string }>('SELECT key FROM snapshots WHERE parent = ? LIMIT 1', key);
      if (child) throw new Conflict(`cannot remove snapshot ${key}: snapshot ${child.key} depends on it`);
      this.db.run('DELETE FROM snapshots WHERE key = ?', key);
    });
    const dir = join(this.root, r.id);
    const doomed = join(this.root, RM_PREFIX + r.id);
    try {
      await rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  async diff(key: string): Promise<SnapshotDiff> {
    const r = this.mustRow(key);
    const parent = r.parent !== null ? this.fsDir(this.mustRow(r.parent).id) : undefined;
    // Under the snapshots root: the same filesystem (hardlinks), and swept as an orphan after a crash.
    const out = join(this.root, `${TMP_PREFIX}diff-${randomBytes(8).toString('hex')}`);
    await mkdir(out, { mode: 0o755 });
    try {
      await diffTrees(this.fsDir(r.id), parent, out);
    } catch (err) {
      await rm(out, { recursive: true, force: true });
      throw err;
    }
    return { upper: out, lowers: parent ? [parent] : [], release: () => rm(out, { recursive: true, force: true }) };
  }

  /** The snapshot's own directory: for vfs, the complete tree (not a diff). */
  async upperDir(key: string): Promise<string> {
    return this.fsDir(this.mustRow(key).id);
  }

  async cleanupOrphans(): Promise<number> {
    await mkdir(this.root, { recursive: true });
    const known = new Set(this.db.all<{ id: string }>('SELECT id FROM snapshots').map((r) => r.id));
    let removed = 0;
    for (const name of await readdir(this.root)) {
      if (known.has(name)) continue;
      await rm(join(this.root, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}

/** Apparent size of the regular files below dir. */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) total += (await lstat(p)).size;
    }
  };
  await walk(dir);
  return total;
}
