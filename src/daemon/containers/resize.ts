import { Conflict } from '../../lib/errors.ts';
import type { ContainerDeps } from './deps.ts';

/** POST /containers/{id}/resize: the TTY's size (conmon's ctl FIFO). 409 when not running. */
export async function resizeContainer(deps: ContainerDeps, ref: string, height: number, width: number): Promise<void> {
  const rec = deps.repo.find(ref);
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not running`);
  if (!rec.config.Tty) return; // nothing to resize
  await deps.runtime.resize(rec.id, height, width);
}
