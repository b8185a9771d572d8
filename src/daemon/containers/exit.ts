import { log } from '../../lib/logger.ts';
import { restartByPolicy } from './autorestart.ts';
import { containerPaths, eventAttributes, type ContainerDeps } from './deps.ts';
import { releaseRuntime } from './release.ts';
import { isRunning, nowRfc3339Nano } from './record.ts';
import { destroy, removeContainer } from './remove.ts';

/**
 * The container's process ended (conmon wrote its exit file): record the exit code, release
 * runtime resources, wake waiters, apply the restart policy, and honour AutoRemove.
 *
 * The exit code is read again under the lock: a notification that arrives late (after a restart
 * has begun the next run, whose exit file does not exist yet) finds none and changes nothing.
 * Only `restore`, which has asked the runtime that the process is gone, passes `fallbackCode`.
 */
export async function handleExit(deps: ContainerDeps, id: string, opts: { fallbackCode?: number } = {}): Promise<void> {
  const rec = deps.repo.get(id);
  if (!rec) return;
  const outcome = await deps.locks.run(id, async () => {
    if (!isRunning(rec.state) || rec.state.status === 'restarting') return 'ignored' as const;
    const code = (await deps.runtime.exitCode(id)) ?? opts.fallbackCode;
    if (code === undefined) return 'ignored' as const;
    deps.health?.stop(id);
    const ranMs = Math.max(0, Date.now() - Date.parse(rec.state.startedAt));
    const facts = { exitCode: code, manuallyStopped: rec.state.stoppedByUser === true, restartCount: rec.restartCount };
    const restart = deps.restarts.shouldRestart(rec.hostConfig.RestartPolicy, facts);
    // Report the exit first (waiters, events), then release resources while still holding the
    // lock, so a new start cannot race the cleanup.
    if (restart) rec.restartCount++;
    // The OOM killer's count is read before the runtime is released (which removes the cgroup).
    // Only read when it can matter (a limit, or a SIGKILL exit): the --rm path stays one read lighter.
    const oomKills = code === 137 || (rec.hostConfig.Memory ?? 0) > 0 ? ((await deps.metrics?.oomKills(containerPaths(deps, id).cgroupsPath).catch(() => 0)) ?? 0) : 0;
    const newOoms = deps.oom ? deps.oom.unreported(id, oomKills) : oomKills;
    deps.oom?.forget(id);
    // As dockerd: any OOM kill during the run (not only of the init) marks the container.
    const oomKilled = rec.state.oomKilled || oomKills > 0;
    rec.state = { ...rec.state, status: restart ? 'restarting' : 'exited', pid: 0, exitCode: code, oomKilled, finishedAt: nowRfc3339Nano() };
    deps.repo.save(rec);
    if (newOoms > 0) deps.events.publish('container', 'oom', id, eventAttributes(rec));
    deps.events.publish('container', 'die', id, eventAttributes(rec, { exitCode: String(code), execDuration: String(Math.floor(ranMs / 1000)) }));
    deps.lifecycle.emitExit(id, { exitCode: code });
    if (!restart && rec.hostConfig.AutoRemove) {
      // AutoRemove (never with a restart policy): the removal releases the runtime too, alongside
      // the container's other files, in one pass under this lock; a failure is retried below.
      return destroy(deps, rec, { removeVolumes: true }).then(
        () => 'removed' as const,
        (e: unknown) => {
          log.warn('auto-remove failed; retrying', { id, error: e });
          return 'exited' as const;
        },
      );
    }
    // The exit is recorded: a failure to release must not skip AutoRemove (which retries it).
    await releaseRuntime(deps, rec).catch((e: unknown) => log.warn('releasing the runtime failed', { id, error: e }));
    if (restart) {
      const delay = deps.restarts.nextDelay(id, ranMs);
      log.debug('restart policy: restarting', { id, policy: rec.hostConfig.RestartPolicy.Name, restartCount: rec.restartCount, delayMs: delay });
      deps.restarts.schedule(id, delay, () => void restartByPolicy(deps, id).catch((e: unknown) => log.error('restart by policy failed', { id, error: e })));
    }
    return restart ? ('restarting' as const) : ('exited' as const);
  });
  if (outcome === 'exited' && rec.hostConfig.AutoRemove) {
    await removeContainer(deps, id, { force: false, removeVolumes: true }).catch((e: unknown) => log.warn('auto-remove failed', { id, error: e }));
  }
}
