import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../../lib/errors.ts';
import { fsyncDir } from '../../../lib/atomic.ts';
import type { MetaDb } from '../../meta/db.ts';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter } from '../snapshotter.ts';

export interface OverlaySnapshotterOptions {
  /** `<dataRoot>/snapshots`: one directory per snapshot, `<id>/{fs,work}`. */
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
 * Overlayfs snapshotter in containerd's shape. Each snapshot owns `<root>/<id>/fs` (its layer, or
 * the upper dir of an active snapshot) and `<root>/<id>/work` (overlay's workdir). Records live in
 * the `snapshots` table; directories are made under a temporary name and renamed before the row is
 * written, and removal deletes the row before the files, so after a crash every directory without
 * a row is garbage (`cleanupOrphans`). It only computes mounts; mounting is the caller's job.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly name = 'overlay';
  readonly root: string;
  private readonly db: MetaDb;

  constructor(opts: OverlaySnapshotterOptions) {
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
  private workDir(id: string): string {
    return join(this.root, id, 'work');
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

  /** The fs directories of `key` and its ancestors, nearest first (overlay's lowerdir order). */
  private chainDirs(key: string): string[] {
    const dirs: string[] = [];
    let cur: string | null = key;
    while (cur !== null) {
      const r = this.mustRow(cur);
      dirs.push(this.fsDir(r.id));
      cur = r.parent;
    }
    return dirs;
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
    if (parent !== undefined) {
      const p = this.mustRow(parent);
      if (p.kind !== 'committed') throw new InvalidParameter(`snapshot ${parent} is not committed, cannot be a parent`);
    }
    const id = randomBytes(16).toString('hex');
    const tmp = join(this.root, TMP_PREFIX + id);
    await mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
    if (kind === 'active') await mkdir(join(tmp, 'work'), { mode: 0o700 });
    try {
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
    if (r.kind === 'active') {
      const own = this.fsDir(r.id);
      if (r.parent === null) return [{ type: 'bind', source: own, options: ['rbind', 'rw'] }];
      const lowers = this.chainDirs(r.parent);
      return [{ type: 'overlay', source: 'overlay', options: [`workdir=${this.workDir(r.id)}`, `upperdir=${own}`, `lowerdir=${lowers.join(':')}`] }];
    }
    // A view (or a committed layer) is read-only: a single directory is bound read-only, since
    // overlay refuses a read-only mount with one lower dir; several become an overlay without upper.
    const base = r.kind === 'view' ? r.parent : r.key;
    if (base === null) return [{ type: 'bind', source: this.fsDir(r.id), options: ['rbind', 'ro'] }];
    const lowers = this.chainDirs(base);
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0], options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }];
  }

  async commit(name: string, key: string): Promise<void> {
    const r = this.mustRow(key);
    if (r.kind !== 'active') throw new InvalidParameter(`snapshot ${key} is not active`);
    const size = await diskUsage(this.fsDir(r.id));
    this.db.tx(() => {
      if (this.row(name)) throw new Conflict(`snapshot ${name} already exists`);
      const cur = this.row(key);
      if (!cur || cur.kind !== 'active') throw new NotFound(`snapshot ${key} does not exist`);
      this.db.run("UPDATE snapshots SET key = ?, kind = 'committed', size = ? WHERE key = ?", name, size, key);
    });
    // A committed layer never becomes an upper dir again; its work dir is dead weight.
    await rm(this.workDir(r.id), { recursive: true, force: true });
  }

  async remove(key: string): Promise<void> {
    const r = this.mustRow(key);
    this.db.tx(() => {
      const child = this.db.get<{ key: string }>('SELECT key FROM snapshots WHERE parent = ? LIMIT 1', key);
      if (child) throw new Conflict(`cannot remove snapshot ${key}: snapshot ${child.key} depends on it`);
      this.db.run('DELETE FROM snapshots WHERE key = ?', key);
    });
    // The row is gone; rename first so a crash mid-delete leaves an obvious orphan.
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

  async upperDir(key: string): Promise<string> {
    const r = this.mustRow(key);
    return this.fsDir(r.id);
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

/** Apparent size of the regular files below dir (what `docker images` reports as layer size). */
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
