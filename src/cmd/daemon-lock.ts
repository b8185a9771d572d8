import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Conflict } from '../lib/errors.ts';

/**
 * One berthd per data root. The lock is an exclusive SQLite transaction held for the daemon's
 * life: SQLite takes it with fcntl, which the kernel releases when the process dies (kill -9
 * included), so there is no stale lock to take over and no race between two starting daemons.
 * `<lock>.pid` names the holder for the error message.
 */
// Held connections, strongly referenced: a DatabaseSync that becomes garbage is closed by its
// finalizer, which would drop the lock silently if a caller let go of the release function.
const held = new Set<DatabaseSync>();

export function acquireLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch {
    db.close();
    let holder = '';
    try {
      holder = ` (pid ${readFileSync(`${path}.pid`, 'utf8').trim()})`;
    } catch {
      /* no pid recorded */
    }
    throw new Conflict(`another berthd${holder} is using this data root: ${dirname(path)}`);
  }
  writeFileSync(`${path}.pid`, String(process.pid));
  held.add(db);
  return () => {
    held.delete(db);
    try {
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  };
}
