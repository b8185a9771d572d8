import { log } from '../../lib/logger.ts';
import { ZERO_TIME } from '../../lib/time.ts';
import type { ContainerDeps } from './deps.ts';
import { restartsAtBoot } from './restartpolicy.ts';
import { startLocked } from './start.ts';

/** The timer of a pending policy restart fired: start the container again, unless cancelled meanwhile. */
export async function restartByPolicy(deps: ContainerDeps, id: string): Promise<void> {
  const rec = deps.repo.get(id);
  if (!rec) return;
  await deps.locks.run(id, async () => {
    if (rec.state.status !== 'restarting' || !deps.repo.get(id)) return;
    try {
      await startLocked(deps, rec, { byPolicy: true });
    } catch (err) {
      // startLocked recorded the error; the container is exited (as moby's SetStopped).
      log.warn('restart by policy failed', { id, error: err });
      rec.state = { ...rec.state, status: 'exited' };
      deps.repo.save(rec);
      deps.lifecycle.emitExit(id, { exitCode: rec.state.exitCode });
    }
  });
}

/** berthd's start: start the stopped containers whose restart policy says so (after restore). */
export async function applyBootRestarts(deps: ContainerDeps): Promise<void> {
  for (const rec of deps.repo.all()) {
    if (rec.state.status === 'restarting' && !deps.restarts.pending(rec.id)) {
      // berthd went down during a restart's backoff: the policy already decided, restart now.
      log.info('restart policy: finishing a restart interrupted by the daemon', { id: rec.id });
      await restartByPolicy(deps, rec.id).catch((err: unknown) => log.warn('restart policy: restart at daemon start failed', { id: rec.id, error: err }));
      continue;
    }
    if (rec.state.status !== 'exited') continue;
    const facts = { exitCode: rec.state.exitCode, manuallyStopped: rec.state.stoppedByUser === true, restartCount: rec.restartCount, startedBefore: rec.state.startedAt !== ZERO_TIME };
    if (!restartsAtBoot(rec.hostConfig.RestartPolicy, facts)) continue;
    log.info('restart policy: starting container at daemon start', { id: rec.id, policy: rec.hostConfig.RestartPolicy.Name });
    await deps.locks
      .run(rec.id, async () => {
        if (rec.state.status !== 'exited' || !deps.repo.get(rec.id)) return;
        // As dockerd's restore: a start at daemon start resets the count.
        rec.restartCount = 0;
        await startLocked(deps, rec);
      })
      .catch((err: unknown) => log.warn('restart policy: start at daemon start failed', { id: rec.id, error: err }));
  }
}
