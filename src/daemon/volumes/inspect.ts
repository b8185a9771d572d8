import { NotFound } from '../../lib/errors.ts';
import type { Volume } from '../../types/volumes.ts';
import type { VolumeDeps } from './deps.ts';
import { volumeView } from './view.ts';

export function noSuchVolume(name: string): NotFound {
  return new NotFound(`get ${name}: no such volume`);
}

/** GET /volumes/{name} */
export async function inspectVolume(deps: VolumeDeps, name: string): Promise<Volume> {
  const v = deps.store.get(name);
  if (!v) throw noSuchVolume(name);
  return volumeView(deps, v);
}
