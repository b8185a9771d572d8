import { log } from '../../lib/logger.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';
import { releaseRuntime } from './release.ts';
import { isRunning, nowRfc3339Nano } from './record.ts';
import { removeContainer } from './remove.ts';

/**
 * The container's process ended (conmon wrote its exit file): record the exit code, release
 * runtime resources, wake waiters, and honour AutoRemove.
 *
 * The exit code is read again under the lock: a notification that arrives late (after a restart
 * has begun the next run, whose exit file does not exist yet) finds none and changes nothing.
 * Only `restore`, which has asked the runtime that the process is gone, passes `fallbackCode`.
 */
export async function handleExit(deps: ContainerDeps, id: string, opts: { fallbackCode?: number } = {}): Promise<void> {
  const rec = deps.repo.get(id);
  if (!rec) return;
  const exited = await deps.locks.run(id, async () => {
    if (!isRunning(rec.state)) return false;
    const code = (await deps.runtime.exitCode(id)) ?? opts.fallbackCode;
    if (code === undefined) return false;
    // Report the exit first (waiters, events), then release resources while still holding the
    // lock, so a new start cannot race the cleanup.
    rec.state = { ...rec.state, status: 'exited', pid: 0, exitCode: code, finishedAt: nowRfc3339Nano() };
    deps.repo.save(rec);
    deps.events.publish('container', 'die', id, eventAttributes(rec, { exitCode: String(code) }));
    deps.lifecycle.emitExit(id, { exitCode: code });
    // The exit is recorded: a failure to release must not skip AutoRemove (which retries it).
    await releaseRuntime(deps, rec).catch((e: unknown) => log.warn('releasing the runtime failed', { id, error: e }));
    return true;
  });
  if (exited && rec.hostConfig.AutoRemove) {
    await removeContainer(deps, id, { force: false, removeVolumes: true }).catch((e: unknown) => log.warn('auto-remove failed', { id, error: e }));
  }
}
