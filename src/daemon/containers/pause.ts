import { Conflict } from '../../lib/errors.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';

/** POST /containers/{id}/pause: freeze every process (runc pause, the freezer cgroup). */
export async function pauseContainer(deps: ContainerDeps, ref: string): Promise<void> {
  const rec = deps.repo.find(ref);
  await deps.locks.run(rec.id, async () => {
    if (rec.state.status === 'paused') throw new Conflict(`Container ${rec.id} is already paused`);
    if (rec.state.status !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
    await deps.runtime.pause(rec.id);
    deps.health?.stop(rec.id); // no probes in a frozen container (moby's updateHealthMonitor)
    rec.state = { ...rec.state, status: 'paused' };
    deps.repo.save(rec);
    deps.events.publish('container', 'pause', rec.id, eventAttributes(rec));
  });
}

/** POST /containers/{id}/unpause. */
export async function unpauseContainer(deps: ContainerDeps, ref: string): Promise<void> {
  const rec = deps.repo.find(ref);
  await deps.locks.run(rec.id, async () => {
    if (rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not paused`);
    await deps.runtime.resume(rec.id);
    rec.state = { ...rec.state, status: 'running' };
    deps.health?.resume(rec);
    deps.repo.save(rec);
    deps.events.publish('container', 'unpause', rec.id, eventAttributes(rec));
  });
}
