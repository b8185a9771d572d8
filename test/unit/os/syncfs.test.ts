import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { syncFilesystem } from '../../../src/os/syncfs.ts';

test('syncFilesystem: concurrent requests on one file system all complete; a missing path fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-syncfs-'));
  try {
    writeFileSync(join(dir, 'f'), 'data');
    await Promise.all([syncFilesystem(dir), syncFilesystem(join(dir, 'f')), syncFilesystem(dir)]);
    await syncFilesystem(dir);
    await assert.rejects(syncFilesystem(join(dir, 'nope')), { code: 'ENOENT' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
