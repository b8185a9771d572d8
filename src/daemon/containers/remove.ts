import { rm } from 'node:fs/promises';
import { Conflict } from '../../lib/errors.ts';
import { containerPaths, eventAttributes, type ContainerDeps } from './deps.ts';
import { releaseRuntime } from './release.ts';
import { isRunning, type ContainerRecord } from './record.ts';
import { killAndWait } from './stop.ts';
import { forgetNetwork } from './network.ts';

export interface RemoveOptions {
  force: boolean;
  removeVolumes: boolean;
}

/** DELETE /containers/{id}. A running container needs force (then it is killed first). */
export async function removeContainer(deps: ContainerDeps, ref: string, opts: RemoveOptions): Promise<void> {
  const rec = deps.repo.find(ref);
  const running = (): Conflict => new Conflict(`You cannot remove a ${rec.state.status === 'restarting' ? 'restarting' : 'running'} container ${rec.id}. Stop the container before attempting removal or force remove`);
  // With force, a start that was in flight when we looked is killed too: kill outside the lock
  // (the exit handler needs it), then try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (isRunning(rec.state)) {
      if (!opts.force) throw running();
      await killAndWait(deps, rec, 'SIGKILL', 10_000);
    }
    const done = await deps.locks.run(rec.id, async () => {
      if (!deps.repo.get(rec.id)) return true; // removed meanwhile (AutoRemove)
      if (isRunning(rec.state)) return false;
      await destroy(deps, rec, { removeVolumes: opts.removeVolumes });
      return true;
    });
    if (done) return;
  }
  throw running();
}

/** Mark first, remove files second, the row last: a crash midway is finished by `restore`. */
export async function destroy(deps: ContainerDeps, rec: ContainerRecord, opts: { removeVolumes?: boolean } = {}): Promise<void> {
  deps.restarts.reset(rec.id);
  deps.health?.stop(rec.id);
  rec.state = { ...rec.state, status: 'removing' };
  deps.repo.save(rec);
  // The data directory (logs, etc files) alongside the release; the container's layer as soon as
  // its rootfs is unmounted.
  const dataGone = rm(containerPaths(deps, rec.id).dataDir, { recursive: true, force: true });
  const [released] = await Promise.allSettled([
    releaseRuntime(deps, rec, {
      afterUnmount: () =>
        deps.snapshots.remove(rec.id).catch((err: unknown) => {
          if ((err as { kind?: string }).kind !== 'NotFound') throw err;
        }),
    }),
    dataGone,
  ]);
  if (released.status === 'rejected') throw released.reason;
  await dataGone;
  // `rm -v` and AutoRemove also remove the container's anonymous volumes no one else uses.
  await deps.volumes?.remove(rec.id, { removeAnonymous: !!opts.removeVolumes });
  await forgetNetwork(deps, rec);
  deps.repo.delete(rec.id);
  deps.events.publish('container', 'destroy', rec.id, eventAttributes(rec));
  deps.lifecycle.emitRemoved(rec.id);
}
