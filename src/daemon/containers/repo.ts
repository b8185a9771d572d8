import type { MetaDb } from '../../store/meta/db.ts';
import { Conflict, InvalidParameter, NotFound } from '../../lib/errors.ts';
import type { ContainerRecord } from './record.ts';

interface Row {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  created: string;
  config: string;
  host_config: string;
  state: string;
  restart_count: number;
}

/**
 * Container records: SQLite is the truth, a write-through in-memory map serves reads (ps and
 * inspect are the hottest API calls and must not parse JSON rows each time).
 */
export class ContainerRepo {
  private readonly db: MetaDb;
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();

  constructor(db: MetaDb) {
    this.db = db;
    for (const row of db.all<Row>('SELECT * FROM containers')) {
      const rec: ContainerRecord = {
        id: row.id,
        name: row.name,
        imageId: row.image_id,
        imageRef: row.image_ref,
        created: String(row.created),
        config: JSON.parse(row.config),
        hostConfig: JSON.parse(row.host_config),
        state: JSON.parse(row.state),
        restartCount: Number(row.restart_count),
      };
      this.byId.set(rec.id, rec);
      this.byName.set(rec.name, rec.id);
    }
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  /** Find by full ID, name (with or without '/'), or unique ID prefix, as docker does. */
  find(ref: string): ContainerRecord {
    const rec = this.tryFind(ref);
    if (!rec) throw new NotFound(`No such container: ${ref}`);
    return rec;
  }

  tryFind(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref.slice(1) : ref);
    if (byName) return this.byId.get(byName);
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const rec of this.byId.values()) {
      if (rec.id.startsWith(ref)) {
        if (found) throw new InvalidParameter(`Multiple IDs found with provided prefix: ${ref}`);
        found = rec;
      }
    }
    return found;
  }

  nameOwner(name: string): string | undefined {
    return this.byName.get(name);
  }

  insert(rec: ContainerRecord): void {
    const owner = this.byName.get(rec.name);
    if (owner) throw nameConflict(rec.name, owner);
    this.db.run(
      'INSERT INTO containers (id, name, image_id, image_ref, created, config, host_config, state, restart_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      rec.id, rec.name, rec.imageId, rec.imageRef, rec.created, JSON.stringify(rec.config), JSON.stringify(rec.hostConfig), JSON.stringify(rec.state), rec.restartCount,
    );
    this.byId.set(rec.id, rec);
    this.byName.set(rec.name, rec.id);
  }

  /** Run fn in one database transaction (e.g. the insert together with the container's mounts). */
  tx<T>(fn: () => T): T {
    return this.db.tx(fn);
  }

  /** Persist the mutable parts of a record (state, restart count, host config). */
  save(rec: ContainerRecord): void {
    this.db.run('UPDATE containers SET state = ?, restart_count = ?, host_config = ?, config = ? WHERE id = ?', JSON.stringify(rec.state), rec.restartCount, JSON.stringify(rec.hostConfig), JSON.stringify(rec.config), rec.id);
  }

  rename(rec: ContainerRecord, newName: string): void {
    const owner = this.byName.get(newName);
    if (owner) throw nameConflict(newName, owner);
    this.db.run('UPDATE containers SET name = ? WHERE id = ?', newName, rec.id);
    this.byName.delete(rec.name);
    rec.name = newName;
    this.byName.set(newName, rec.id);
  }

  delete(id: string): void {
    const rec = this.byId.get(id);
    this.db.run('DELETE FROM containers WHERE id = ?', id);
    if (rec) this.byName.delete(rec.name);
    this.byId.delete(id);
  }

  usingImage(imageId: string): ContainerRecord[] {
    return this.all().filter((r) => r.imageId === imageId);
  }
}

export function nameConflict(name: string, ownerId: string): Conflict {
  return new Conflict(`Conflict. The container name "/${name}" is already in use by container "${ownerId}". You have to remove (or rename) that container to be able to reuse that name.`);
}
