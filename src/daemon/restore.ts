import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../lib/logger.ts';
import { ZERO_TIME } from '../lib/time.ts';
import type { ContainerDeps } from './containers/deps.ts';
import { containerPaths } from './containers/deps.ts';
import { handleExit } from './containers/exit.ts';
import { releaseRuntime } from './containers/release.ts';
import { destroy } from './containers/remove.ts';
import { isRunning, nowRfc3339Nano } from './containers/record.ts';
import { outputSettings } from './containers/logconfig.ts';

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/**
 * Startup reconciliation. Status is derived, never trusted: each container's record is checked
 * against the runtime's state and conmon's exit file. Running containers stay running; exits that
 * happened while berthd was down are recorded; anything a crash left half-made is removed.
 * Call after subscribing to runtime exits, so none is missed in between.
 */
export async function restore(deps: ContainerDeps): Promise<void> {
  const known = new Set(deps.repo.all().map((r) => r.id));
  // Volumes of containers whose runtime resources still exist are mounted: rebuild their refcounts.
  const bundled = new Set(await listDir(deps.bundlesDir));
  await deps.volumes?.restore([...known].filter((id) => bundled.has(id)));

  // 1. Leftovers without a record: bundles (and their mounts), container dirs, rootfs snapshots.
  for (const id of await listDir(deps.bundlesDir)) {
    if (known.has(id)) continue;
    log.info('restore: removing orphaned bundle', { id });
    await deps.runtime.delete(id, true).catch(() => undefined);
    await deps.host.unmount(containerPaths(deps, id).rootfs).catch(() => undefined);
    await deps.host.removeCgroup(containerPaths(deps, id).cgroupsPath).catch(() => undefined);
    await rm(join(deps.bundlesDir, id), { recursive: true, force: true });
  }
  for (const id of await listDir(deps.containersDir)) {
    if (known.has(id)) continue;
    log.info('restore: removing orphaned container directory', { id });
    await rm(join(deps.containersDir, id), { recursive: true, force: true });
  }
  for (const snap of await deps.snapshots.list()) {
    if (snap.kind !== 'committed' && !known.has(snap.key)) {
      log.info('restore: removing orphaned snapshot', { key: snap.key });
      await deps.snapshots.remove(snap.key).catch((e: unknown) => log.warn('restore: snapshot removal failed', { key: snap.key, error: e }));
    }
  }
  await deps.snapshots.cleanupOrphans();
  await deps.runtime.cleanupOrphans(known);

  // 2. Every recorded container against the runtime's truth.
  for (const rec of deps.repo.all()) {
    try {
      if (rec.state.status === 'removing') {
        await destroy(deps, rec, { removeVolumes: rec.hostConfig.AutoRemove });
        continue;
      }
      const exitCode = await deps.runtime.exitCode(rec.id);
      const rt = await deps.runtime.state(rec.id);
      if (rec.state.status === 'restarting') {
        // Its last run was released before the backoff, and a policy restart keeps the record
        // `restarting` until the new run is up. A run that got up before the crash is adopted;
        // anything else the runtime or the bundle holds is a restart cut short: released here,
        // then applyBootRestarts starts the container again.
        if (rt && (rt.status === 'running' || rt.status === 'paused') && exitCode === undefined) {
          log.info('restore: adopting a container restarted before a crash', { id: rec.id });
          rec.state = { ...rec.state, status: 'running', pid: rt.pid, startedAt: nowRfc3339Nano(), error: '' };
          deps.repo.save(rec); // and on as a live one, below
        } else {
          if (rt || exitCode !== undefined || (await listDir(containerPaths(deps, rec.id).bundleDir)).length > 0) await releaseRuntime(deps, rec);
          continue;
        }
      }
      if (isRunning(rec.state)) {
        // `created` by the runtime but recorded running: the start never got its process going
        if (exitCode !== undefined || !rt || rt.status === 'stopped' || rt.status === 'created') {
          await handleExit(deps, rec.id, { fallbackCode: 255 });
        } else {
          if (rt.status === 'paused') {
            rec.state.status = 'paused';
            deps.repo.save(rec);
          }
          // Live: its log is rotated by berthd again.
          const out = outputSettings(rec, containerPaths(deps, rec.id));
          if (out.rotation) deps.runtime.resumeLogRotation(rec.id, out.path, out.rotation);
          if (rec.state.status === 'running') {
            deps.health?.init(rec);
            deps.repo.save(rec);
          }
        }
        continue;
      }
      // Not running by our record. A crash between `runc start` and the record: adopt it.
      if (rt && (rt.status === 'running' || rt.status === 'paused') && exitCode === undefined) {
        log.info('restore: adopting a container started before a crash', { id: rec.id });
        rec.state = { ...rec.state, status: 'running', pid: rt.pid, startedAt: nowRfc3339Nano(), error: '' };
        deps.repo.save(rec);
        continue;
      }
      // A crash during start (runtime created but not started) or before cleanup after exit.
      if (rt || exitCode !== undefined) {
        if (exitCode !== undefined && rec.state.startedAt !== ZERO_TIME && rt) {
          rec.state = { ...rec.state, status: 'exited', exitCode, finishedAt: nowRfc3339Nano() };
          deps.repo.save(rec);
        }
        await releaseRuntime(deps, rec);
      } else if ((await listDir(containerPaths(deps, rec.id).bundleDir)).length > 0) {
        // A stopped container has no bundle; one left by a crash is released.
        await releaseRuntime(deps, rec);
      }
      // A crash between recording the exit of an AutoRemove container and removing it.
      if (rec.hostConfig.AutoRemove && !isRunning(rec.state) && deps.repo.get(rec.id)) await destroy(deps, rec, { removeVolumes: true });
    } catch (err) {
      log.error('restore: failed to reconcile container', { id: rec.id, error: err });
    }
  }
  await deps.volumes?.sweep(new Set(deps.repo.all().map((r) => r.id))).catch((err: unknown) => log.error('restore: volume sweep failed', { error: err }));
}
