import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaDb } from '../../../src/store/meta/db.ts';
import { BuildCache, stepKey } from '../../../src/builder/cache.ts';

test('BuildCache: a hit needs the same parent and key, survives reopening, and misses once its image is gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cache-'));
  try {
    const images = new Set(['sha256:img1']);
    let db = new MetaDb(join(dir, 'meta.db'));
    let cache = new BuildCache(db, (id) => images.has(id));
    const key = stepKey(['RUN', '["sh","-c","true"]']);
    assert.equal(cache.lookup('sha256:parent', key), undefined);
    cache.put('sha256:parent', key, 'sha256:img1', 'RUN true', 1000);
    assert.equal(cache.lookup('sha256:parent', key), 'sha256:img1');
    assert.equal(cache.lookup('sha256:other-parent', key), undefined, 'another parent misses');
    assert.equal(cache.lookup('sha256:parent', stepKey(['RUN', '["sh","-c","false"]'])), undefined, 'another instruction misses');
    db.close();

    db = new MetaDb(join(dir, 'meta.db'));
    cache = new BuildCache(db, (id) => images.has(id));
    assert.equal(cache.lookup('sha256:parent', key), 'sha256:img1', 'rows survive a restart');
    images.delete('sha256:img1');
    assert.equal(cache.lookup('sha256:parent', key), undefined, 'a removed image is a miss');
    assert.deepEqual(cache.all(), [], 'and its row is dropped');
    cache.put('', key, 'sha256:img2', 'x');
    assert.equal(cache.clear().length, 1);
    assert.deepEqual(cache.all(), []);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
