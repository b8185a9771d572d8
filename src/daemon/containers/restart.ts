import { NotModified } from '../../lib/errors.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';
import { isRunning } from './record.ts';
import { resetRestarts, startLocked } from './start.ts';
import { stopContainer } from './stop.ts';

/** POST /containers/{id}/restart: stop (if running) then start. */
export async function restartContainer(deps: ContainerDeps, ref: string, opts: { timeoutSec?: number; signal?: string }): Promise<void> {
  const rec = deps.repo.find(ref);
  // It may exit on its own between the check and the stop: then there is nothing to stop.
  if (isRunning(rec.state)) await stopContainer(deps, rec.id, opts).catch((err: unknown) => {
    if (!(err instanceof NotModified)) throw err;
  });
  await deps.locks.run(rec.id, () => {
    resetRestarts(deps, rec);
    return startLocked(deps, rec);
  });
  deps.events.publish('container', 'restart', rec.id, eventAttributes(rec));
}
