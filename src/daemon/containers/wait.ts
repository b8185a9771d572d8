import { InvalidParameter } from '../../lib/errors.ts';
import type { WaitResponse } from '../../types/docker.ts';
import type { ContainerDeps } from './deps.ts';
import { isRunning } from './record.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * Prepare a wait (validating first, so errors are HTTP errors); the returned promise resolves
 * at the condition. It is issued before `start`, so next-exit waits for the first run.
 */
export function prepareWait(deps: ContainerDeps, ref: string, condition: string | null, signal: AbortSignal): () => Promise<WaitResponse> {
  const cond = (condition || 'not-running') as WaitCondition;
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidParameter(`invalid condition: "${condition}"`);
  const rec = deps.repo.find(ref);
  const id = rec.id;
  // Subscribe now, before the caller starts the container.
  const exit = deps.lifecycle.nextExit(id, signal);
  const removed = deps.lifecycle.removed(id, signal);
  exit.catch(() => undefined);
  removed.catch(() => undefined);
  return async () => {
    if (cond === 'removed') {
      if (!deps.repo.get(id)) return { StatusCode: rec.state.exitCode, Error: null };
      await removed;
      return { StatusCode: rec.state.exitCode, Error: null };
    }
    if (cond === 'not-running' && !isRunning(rec.state)) return { StatusCode: rec.state.exitCode, Error: null };
    const info = await exit;
    return { StatusCode: info.exitCode, Error: null };
  };
}
