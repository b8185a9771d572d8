import type { ContainerDeps } from './deps.ts';
import type { ContainerRecord } from './record.ts';

/**
 * Cancel a pending policy restart (stop, kill, rm -f while the container waits out its backoff):
 * the container becomes exited. Runs under the container's lock, so a restart whose timer has
 * already fired either finishes first (and the caller then stops a running container) or sees
 * the cancellation. True if a restart was pending.
 */
export async function cancelRestart(deps: ContainerDeps, rec: ContainerRecord): Promise<boolean> {
  return deps.locks.run(rec.id, async () => {
    deps.restarts.cancel(rec.id);
    if (rec.state.status !== 'restarting') return false;
    rec.state = { ...rec.state, status: 'exited', stoppedByUser: true };
    deps.repo.save(rec);
    deps.lifecycle.emitExit(rec.id, { exitCode: rec.state.exitCode });
    return true;
  });
}
