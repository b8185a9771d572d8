// Exit handling and the exit reconciler against fakes (no root, no runtime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetaDb } from '../../../src/store/meta/db.ts';
import { EventBus } from '../../../src/lib/events.ts';
import { KeyedLock } from '../../../src/lib/keyedlock.ts';
import { ContainerRepo } from '../../../src/daemon/containers/repo.ts';
import { Lifecycle } from '../../../src/daemon/containers/lifecycle.ts';
import { RestartManager } from '../../../src/daemon/containers/restartpolicy.ts';
import { handleExit } from '../../../src/daemon/containers/exit.ts';
import { startExitReconciler } from '../../../src/daemon/containers/reconcile.ts';
import { initialState } from '../../../src/daemon/containers/record.ts';
import { normalizeHostConfig, mergeConfig } from '../../../src/daemon/containers/config.ts';
import type { ContainerDeps } from '../../../src/daemon/containers/deps.ts';
import type { ContainerRuntime } from '../../../src/runtime/types.ts';
import type { Snapshotter } from '../../../src/store/snapshots/snapshotter.ts';
import type { ImageResolver } from '../../../src/store/images/types.ts';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  const db = new MetaDb(join(dir, 'meta.db'));
  const calls: string[] = [];
  const exitCodes = new Map<string, number>();
  const runtime = {
    name: 'fake',
    exitCode: async (id: string) => exitCodes.get(id),
    delete: async (id: string) => void calls.push(`delete ${id}`),
  } as unknown as ContainerRuntime;
  const snapshots = { remove: async (key: string) => void calls.push(`snapshot-remove ${key}`) } as unknown as Snapshotter;
  const deps: ContainerDeps = {
    repo: new ContainerRepo(db),
    images: {} as ImageResolver,
    snapshots,
    runtime,
    host: {
      mountAll: async () => undefined,
      unmount: async (t) => void calls.push(`unmount ${t.split('/').pop()}`),
      removeCgroup: async () => undefined,
    },
    events: new EventBus(),
    lifecycle: new Lifecycle(),
    locks: new KeyedLock(),
    restarts: new RestartManager(),
    logDefaults: { Type: 'json-file', Config: {} },
    containersDir: join(dir, 'containers'),
    bundlesDir: join(dir, 'bundles'),
    cgroupParent: 'berth-unit',
    runtimeName: 'runc',
    storageDriver: 'overlay2',
    hostFeatures: {},
  };
  const add = (id: string, autoRemove = false): void => {
    const config = mergeConfig({ Image: 'busybox', Cmd: ['true'] }, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, id);
    deps.repo.insert({ id, name: `c-${id.slice(0, 4)}`, imageId: 'sha256:x', imageRef: 'busybox', created: new Date().toISOString(), config, hostConfig: normalizeHostConfig({ AutoRemove: autoRemove }, 'runc'), state: { ...initialState(), status: 'running', pid: 42 }, restartCount: 0 });
    mkdirSync(join(deps.bundlesDir, id, 'rootfs'), { recursive: true });
  };
  return { deps, calls, exitCodes, add, done: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('an exit is recorded, announced, then the runtime is released once', async () => {
  const t = setup();
  try {
    const id = 'a'.repeat(64);
    t.add(id);
    t.exitCodes.set(id, 3);
    const dies: string[] = [];
    t.deps.events.subscribe((ev) => dies.push(`${ev.Action} ${ev.Actor.Attributes.exitCode ?? ''}`.trim()));
    const exit = t.deps.lifecycle.nextExit(id);
    await handleExit(t.deps, id);
    assert.deepEqual(await exit, { exitCode: 3 });
    assert.deepEqual(dies, ['die 3']);
    const rec = t.deps.repo.get(id)!;
    assert.equal(rec.state.status, 'exited');
    assert.equal(rec.state.exitCode, 3);
    assert.equal(rec.state.pid, 0);
    assert.deepEqual(t.calls.sort(), [`delete ${id}`, 'unmount rootfs']);
    await handleExit(t.deps, id); // a second notification changes nothing
    assert.equal(t.calls.length, 2);
  } finally {
    t.done();
  }
});

test('AutoRemove: the exited container is destroyed, releasing its runtime only once', async () => {
  const t = setup();
  try {
    const id = 'b'.repeat(64);
    t.add(id, true);
    t.exitCodes.set(id, 0);
    const removed = t.deps.lifecycle.removed(id);
    await handleExit(t.deps, id);
    await removed;
    assert.equal(t.deps.repo.get(id), undefined);
    assert.deepEqual(t.calls.sort(), [`delete ${id}`, `snapshot-remove ${id}`, 'unmount rootfs']);
  } finally {
    t.done();
  }
});

test('the reconciler handles an exit whose notification was lost', async () => {
  const t = setup();
  try {
    const id = 'c'.repeat(64);
    t.add(id);
    const stop = startExitReconciler(t.deps, 20);
    try {
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(t.deps.repo.get(id)!.state.status, 'running', 'no exit code yet: still running');
      t.exitCodes.set(id, 137);
      const exit = t.deps.lifecycle.nextExit(id);
      assert.deepEqual(await exit, { exitCode: 137 });
    } finally {
      stop();
    }
  } finally {
    t.done();
  }
});
