// The network store's per-container endpoint index agrees with its records through puts, updates,
// deletes and a reload from SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaDb } from '../../../src/store/meta/db.ts';
import { NetworkStore } from '../../../src/network/store.ts';
import type { EndpointRecord } from '../../../src/network/types.ts';

const ep = (id: string, networkId: string, containerId: string, seq: number): EndpointRecord => ({ id, networkId, containerId, seq, config: { aliases: [] }, state: null });

test('endpointsOf follows puts, updates and deletes, in attachment order, and survives a reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  const db = new MetaDb(join(dir, 'meta.db'));
  try {
    for (const n of ['n1', 'n2', 'n3']) db.run('INSERT INTO networks (id, name, driver, created, config) VALUES (?, ?, ?, ?, ?)', n, n, 'bridge', '', '{}');
    const store = new NetworkStore(db);
    store.putEndpoint(ep('e2', 'n2', 'c1', 1));
    store.putEndpoint(ep('e1', 'n1', 'c1', 0));
    store.putEndpoint(ep('e3', 'n3', 'c2', 0));
    assert.deepEqual(store.endpointsOf('c1').map((e) => e.id), ['e1', 'e2']);
    store.putEndpoint({ ...ep('e1', 'n1', 'c1', 2), state: null }); // an update keeps one entry
    assert.deepEqual(store.endpointsOf('c1').map((e) => e.id), ['e2', 'e1']);
    store.deleteEndpoint('e1');
    assert.deepEqual(store.endpointsOf('c1').map((e) => e.id), ['e2']);
    store.deleteEndpoint('e2');
    assert.deepEqual(store.endpointsOf('c1'), []);
    assert.deepEqual(store.endpointsOf('nope'), []);
    const reloaded = new NetworkStore(db);
    assert.deepEqual(reloaded.endpointsOf('c2').map((e) => e.id), ['e3']);
    assert.deepEqual(reloaded.endpointsOf('c1'), []);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
