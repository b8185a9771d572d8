import { errorMessage, isKind } from '../../lib/errors.ts';
import { Filters } from '../../lib/filters.ts';
import { log } from '../../lib/logger.ts';
import type { VolumePruneResponse } from '../../types/volumes.ts';
import type { VolumeDeps } from './deps.ts';
import { removeVolume } from './remove.ts';
import { dirSize } from './usage.ts';

/**
 * POST /volumes/prune: unused volumes. Since API 1.42 only anonymous volumes unless the `all`
 * filter is true (Docker 23+); `label` / `label!` filters narrow it further.
 */
export async function pruneVolumes(deps: VolumeDeps, rawFilters: string | null | undefined, opts: { allByDefault?: boolean } = {}): Promise<VolumePruneResponse> {
  const f = Filters.parse(rawFilters, ['label', 'label!', 'all']);
  const all = f.has('all') ? f.get('all').some((v) => v === 'true' || v === '1') : !!opts.allByDefault;
  const refs = deps.store.refCounts();
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const v of deps.store.list()) {
    if ((refs.get(v.name) ?? 0) > 0) continue;
    if (!all && !v.anonymous) continue;
    if (!f.matchLabels('label', v.labels)) continue;
    if (f.has('label!') && f.get('label!').some((l) => new Filters(new Map([['l', [l]]])).matchLabels('l', v.labels))) continue;
    const size = v.driver === 'local' && !v.options ? await dirSize(await deps.drivers.local.path(v.name)) : 0;
    try {
      await removeVolume(deps, v.name);
      deleted.push(v.name);
      reclaimed += size;
    } catch (err) {
      // in use by a container created meanwhile, or a plugin error: skip it, as dockerd does
      if (!isKind(err, 'Conflict')) log.warn('volume prune: removal failed', { name: v.name, error: errorMessage(err) });
    }
  }
  return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}
