import { InvalidParameter } from '../../lib/errors.ts';
import { Filters } from '../../lib/filters.ts';
import type { Volume, VolumeListResponse } from '../../types/volumes.ts';
import type { VolumeRecord } from '../../volumes/store.ts';
import type { VolumeDeps } from './deps.ts';
import { volumeView } from './view.ts';

const LIST_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;

/** Whether a volume passes `dangling`, `driver`, `label` and `name` filters (dockerd's rules). */
export function matchVolume(f: Filters, v: VolumeRecord, refCount: number): boolean {
  if (f.has('dangling')) {
    const want = f.get('dangling').map((d) => {
      if (d === 'true' || d === '1') return true;
      if (d === 'false' || d === '0') return false;
      throw new InvalidParameter(`invalid filter 'dangling=${d}'`);
    });
    if (!want.includes(refCount === 0)) return false;
  }
  if (!f.matchAny('driver', (d) => d === v.driver)) return false;
  if (!f.matchAny('name', (n) => v.name.includes(n))) return false;
  return f.matchLabels('label', v.labels);
}

/** GET /volumes */
export async function listVolumes(deps: VolumeDeps, rawFilters: string | null | undefined): Promise<VolumeListResponse> {
  const f = Filters.parse(rawFilters, LIST_FILTERS);
  const refs = deps.store.refCounts();
  const out: Volume[] = [];
  for (const v of deps.store.list()) {
    if (matchVolume(f, v, refs.get(v.name) ?? 0)) out.push(await volumeView(deps, v));
  }
  return { Volumes: out, Warnings: null };
}
