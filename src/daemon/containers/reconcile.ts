import { log } from '../../lib/logger.ts';
import type { ContainerDeps } from './deps.ts';
import { handleExit } from './exit.ts';
import { isRunning } from './record.ts';

/**
 * A safety net under the runtime's exit notifications (inotify can overflow): every interval,
 * containers recorded as running whose monitor has written an exit code are handled as exited.
 * One small file read per running container; returns a stop function.
 */
export function startExitReconciler(deps: ContainerDeps, intervalMs = 10_000): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const rec of deps.repo.all()) {
        if (!isRunning(rec.state)) continue;
        if ((await deps.runtime.exitCode(rec.id)) === undefined) continue;
        log.debug('reconcile: exit found without a notification', { id: rec.id });
        await handleExit(deps, rec.id).catch((err: unknown) => log.error('exit handling failed', { id: rec.id, error: err }));
      }
    })().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
