import type { MetaDb } from './db.ts';

/** Daemon-wide facts kept with the data root (e.g. the storage driver it was made with). */
export function getSetting(db: MetaDb, key: string): string | undefined {
  return db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', key)?.value;
}

export function setSetting(db: MetaDb, key: string, value: string): void {
  db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
}
