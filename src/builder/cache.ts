// The layer cache: a build step's result image, keyed by the image it ran on and the step's key
// (the instruction after substitution, the build arguments it sees, the checksums of its inputs).
// Rows live in SQLite, so the cache survives berthd restarts; a row whose image was deleted is a miss.
import { sha256 } from '../lib/digest.ts';
import type { MetaDb } from '../store/meta/db.ts';

export interface CacheRow {
  parent: string;
  key: string;
  image_id: string;
  description: string;
  created: number;
  last_used: number;
}

/** The step key: a digest over its parts, in order. */
export function stepKey(parts: readonly string[]): string {
  return sha256(JSON.stringify(parts));
}

export class BuildCache {
  private readonly db: MetaDb;
  private readonly imageExists: (id: string) => boolean;
  /** Hits not yet written back: `last_used` by "parent\0key" (one transaction per build, not per step). */
  private readonly used = new Map<string, number>();

  constructor(db: MetaDb, imageExists: (id: string) => boolean) {
    this.db = db;
    this.imageExists = imageExists;
  }

  /**
   * The cached result of a step, if any (and its image still exists). The hit's `last_used` is
   * written by flushUsage (the builder calls it when the build ends; all() and clear() first).
   */
  lookup(parent: string, key: string, now = Date.now()): string | undefined {
    return this.lookupWith(parent, key, (id) => (this.imageExists(id) ? id : undefined), now);
  }

  /**
   * lookup() that loads the image too: `load` returns it, or undefined when it is gone (then the
   * row is dropped). Saves the separate existence check.
   */
  lookupWith<T>(parent: string, key: string, load: (imageId: string) => T | undefined, now = Date.now()): T | undefined {
    const row = this.db.get<{ image_id: string }>('SELECT image_id FROM build_cache WHERE parent = ? AND key = ?', parent, key);
    if (!row) return undefined;
    const loaded = load(row.image_id);
    if (loaded === undefined) {
      this.db.tx(() => this.db.run('DELETE FROM build_cache WHERE parent = ? AND key = ?', parent, key));
      return undefined;
    }
    this.used.set(`${parent}\0${key}`, now);
    return loaded;
  }

  /** Write the pending hits' `last_used`, in one transaction. */
  flushUsage(): void {
    if (this.used.size === 0) return;
    const entries = [...this.used];
    this.used.clear();
    this.db.tx(() => {
      for (const [k, t] of entries) {
        const i = k.indexOf('\0');
        this.db.run('UPDATE build_cache SET last_used = max(last_used, ?) WHERE parent = ? AND key = ?', t, k.slice(0, i), k.slice(i + 1));
      }
    });
  }

  put(parent: string, key: string, imageId: string, description: string, now = Date.now()): void {
    this.db.tx(() =>
      this.db.run(
        `INSERT INTO build_cache (parent, key, image_id, description, created, last_used) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(parent, key) DO UPDATE SET image_id = excluded.image_id, description = excluded.description, last_used = excluded.last_used`,
        parent,
        key,
        imageId,
        description,
        now,
        now,
      ),
    );
  }

  all(): CacheRow[] {
    this.flushUsage();
    return this.db.all<CacheRow>('SELECT * FROM build_cache ORDER BY created');
  }

  /** Forget every row (or those `filter` selects); returns the rows removed. */
  clear(filter: (row: CacheRow) => boolean = () => true): CacheRow[] {
    return this.db.tx(() => {
      const rows = this.all().filter(filter);
      for (const r of rows) this.db.run('DELETE FROM build_cache WHERE parent = ? AND key = ?', r.parent, r.key);
      return rows;
    });
  }
}
