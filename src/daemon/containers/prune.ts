import { errorMessage } from '../../lib/errors.ts';
import { Filters } from '../../lib/filters.ts';
import { log } from '../../lib/logger.ts';
import { parseFilterTimestamp } from '../../lib/timestamp.ts';
import type { ContainersPruneResponse } from '../../types/docker.ts';
import type { ContainerDeps } from './deps.ts';
import { isRunning } from './record.ts';
import { destroy } from './remove.ts';
import { containerRwSize } from './size.ts';

/** Labels of a container match `label!` when any of them would match `label`. */
function matchesNegated(f: Filters, labels: Record<string, string> | null | undefined): boolean {
  return f.get('label!').some((l) => new Filters(new Map([['l', [l]]])).matchLabels('l', labels));
}

/**
 * POST /containers/prune: remove every stopped container (created, exited, dead) that matches the
 * `until` and `label`/`label!` filters. A container started or removed meanwhile is skipped.
 * Emits `destroy` per container and one `prune` event with the space reclaimed.
 */
export async function pruneContainers(deps: ContainerDeps, rawFilters: string | null | undefined): Promise<ContainersPruneResponse> {
  const f = Filters.parse(rawFilters, ['until', 'label', 'label!']);
  const until = f.has('until') ? parseFilterTimestamp(f.get('until')[0]) : undefined;
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of deps.repo.all()) {
    if (isRunning(rec.state) || rec.state.status === 'removing') continue;
    if (until !== undefined && Date.parse(rec.created) >= until) continue;
    if (!f.matchLabels('label', rec.config.Labels)) continue;
    if (f.has('label!') && matchesNegated(f, rec.config.Labels)) continue;
    try {
      const removed = await deps.locks.run(rec.id, async () => {
        if (!deps.repo.get(rec.id) || isRunning(rec.state) || rec.state.status === 'removing') return false;
        const size = await containerRwSize(deps, rec.id);
        await destroy(deps, rec);
        reclaimed += size;
        return true;
      });
      if (removed) deleted.push(rec.id);
    } catch (err) {
      log.warn('container prune: removal failed', { id: rec.id, error: errorMessage(err) });
    }
  }
  deps.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
  return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}
