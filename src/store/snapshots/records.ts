import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound } from '../../lib/errors.ts';
import { fsyncDir } from '../../lib/atomic.ts';
import type { MetaDb } from '../meta/db.ts';
import type { SnapshotInfo, SnapshotKind } from './snapshotter.ts';

export interface SnapshotRow {
  key: string;
  id: string;
  parent: string | null;
  kind: SnapshotKind;
  size: number;
  created: number;
}

const TMP_PREFIX = '.tmp-';
const RM_PREFIX = '.rm-';
const COLUMNS = 'key, id, parent, kind, size, created';

/**
 * The records and directories every snapshotter shares: one row per snapshot in the `snapshots`
 * table and one directory `<root>/<id>`. The crash rules live here, once: a directory is made under
 * a temporary name and renamed into place before its row is written; removal deletes the row
 * before the files; so after a crash every directory without a row is garbage (`cleanupOrphans`).
 * Snapshotters add only what differs: what a new directory holds and how it is mounted.
 */
export class SnapshotRecords {
  readonly root: string;
  private readonly db: MetaDb;

  constructor(root: string, db: MetaDb) {
    this.root = root;
    this.db = db;
  }

  row(key: string): SnapshotRow | undefined {
    return this.db.get<SnapshotRow>(`SELECT ${COLUMNS} FROM snapshots WHERE key = ?`, key);
  }

  mustRow(key: string): SnapshotRow {
    const r = this.row(key);
    if (!r) throw new NotFound(`snapshot ${key} does not exist`);
    return r;
  }

  /** The directory holding a snapshot's files (its layer, upper dir or full tree). */
  fsDir(id: string): string {
    return join(this.root, id, 'fs');
  }

  stat(key: string): SnapshotInfo | undefined {
    const r = this.row(key);
    return r ? info(r) : undefined;
  }

  list(): SnapshotInfo[] {
    return this.db.all<SnapshotRow>(`SELECT ${COLUMNS} FROM snapshots ORDER BY created`).map(info);
  }

  /**
   * A new snapshot `key` over the committed `parent`. `populate` fills the temporary directory
   * (its `fs` subdirectory exists already) before it is renamed into place and recorded.
   */
  async create(kind: 'active' | 'view', key: string, parent: string | undefined, populate: (tmp: string, parent: SnapshotRow | undefined) => Promise<void>): Promise<void> {
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
      await populate(tmp, parentRow);
      await rename(tmp, join(this.root, id));
      await fsyncDir(this.root);
      this.db.tx(() => {
        if (this.row(key)) throw new Conflict(`snapshot ${key} already exists`);
        if (parent !== undefined && !this.row(parent)) throw new NotFound(`snapshot ${parent} does not exist`);
        this.db.run(`INSERT INTO snapshots (${COLUMNS}) VALUES (?, ?, ?, ?, 0, ?)`, key, id, parent ?? null, kind, Date.now());
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      await rm(join(this.root, id), { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Record the active snapshot `key` as the committed snapshot `name` of `size` bytes, on top of
   * the committed `parent` when given (else on the parent it was prepared on).
   */
  commit(name: string, key: string, size: number, parent?: string): void {
    this.db.tx(() => {
      if (this.row(name)) throw new Conflict(`snapshot ${name} already exists`);
      const cur = this.row(key);
      if (!cur || cur.kind !== 'active') throw new NotFound(`snapshot ${key} does not exist`);
      if (parent !== undefined && parent !== cur.parent) {
        const p = this.row(parent);
        if (!p) throw new NotFound(`snapshot ${parent} does not exist`);
        if (p.kind !== 'committed') throw new InvalidParameter(`snapshot ${parent} is not committed, cannot be a parent`);
        this.db.run("UPDATE snapshots SET key = ?, kind = 'committed', size = ?, parent = ? WHERE key = ?", name, size, parent, key);
        return;
      }
      this.db.run("UPDATE snapshots SET key = ?, kind = 'committed', size = ? WHERE key = ?", name, size, key);
    });
  }

  /** Delete the row (Conflict while a child depends on it), then the directory. */
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

  /** A scratch directory under the root: same filesystem, and swept as an orphan after a crash. */
  async scratchDir(label: string): Promise<string> {
    const dir = join(this.root, `${TMP_PREFIX}${label}-${randomBytes(8).toString('hex')}`);
    await mkdir(dir, { mode: 0o755 });
    return dir;
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

function info(r: SnapshotRow): SnapshotInfo {
  const out: SnapshotInfo = { key: r.key, kind: r.kind, created: r.created, size: r.size };
  if (r.parent !== null) out.parent = r.parent;
  return out;
}

/** Apparent size of the regular files below dir (what `docker images` reports as layer size). */
export async function diskUsage(dir: string): Promise<number> {
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
