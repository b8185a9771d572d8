// POST /build/prune and the build-cache part of `system df`. The classic builder's cache is made
// of images (one per step); pruning forgets the cache rows and removes the step images nothing
// else holds (no tag, no child image, no container).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../../lib/digest.ts';
import { BerthError } from '../../lib/errors.ts';
import { removeImage } from '../images/remove.ts';
import type { BuildServiceDeps } from './deps.ts';

export interface BuildCacheRecord {
  ID: string;
  Parent: string;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

/** Bytes an image adds on top of its parent (its own layer). */
function ownSize(deps: BuildServiceDeps, imageId: string): number {
  const img = deps.images.images.get(imageId);
  if (!img) return 0;
  const parent = img.parent ? deps.images.images.get(img.parent) : undefined;
  return Math.max(0, img.size - (parent?.size ?? 0));
}

/** The build cache as `GET /system/df` shows it (BuildCache, BuilderSize). */
export function buildCacheUsage(deps: BuildServiceDeps): { records: BuildCacheRecord[]; size: number } {
  const records: BuildCacheRecord[] = [];
  let size = 0;
  for (const row of deps.cache.all()) {
    const img = deps.images.images.get(row.image_id);
    if (!img) continue;
    const shared = img.refs.length > 0;
    const s = ownSize(deps, row.image_id);
    if (!shared) size += s;
    records.push({
      ID: digestHex(row.key).slice(0, 25),
      Parent: row.parent ? digestHex(row.parent).slice(0, 25) : '',
      Type: 'regular',
      Description: row.description,
      InUse: deps.images.containersUsingImage(row.image_id).length > 0,
      Shared: shared,
      Size: s,
      CreatedAt: new Date(row.created).toISOString(),
      LastUsedAt: new Date(row.last_used).toISOString(),
      UsageCount: 1,
    });
  }
  return { records, size };
}

/** Forget the cache and remove the step images only it kept. */
export async function pruneBuildCache(deps: BuildServiceDeps): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
  const rows = deps.cache.clear();
  const pending = new Set(rows.map((r) => r.image_id));
  const deleted: string[] = [];
  let reclaimed = 0;
  // Children first: an image is removable once no other image stands on it.
  for (let progress = true; progress && pending.size > 0; ) {
    progress = false;
    for (const id of [...pending]) {
      const img = deps.images.images.get(id);
      if (!img || img.refs.length > 0 || deps.images.containersUsingImage(id).length > 0) {
        pending.delete(id);
        continue;
      }
      if (deps.images.images.children(id).length > 0) continue;
      const size = ownSize(deps, id);
      try {
        const records = await removeImage(deps.images, { name: id, noprune: true });
        if (records.some((r) => r.Deleted === id)) {
          deleted.push(id);
          reclaimed += size;
        }
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
      }
      pending.delete(id);
      progress = true;
    }
  }
  // RUN --mount=type=cache directories are build cache too.
  for (const name of await readdir(deps.cacheMountsDir).catch(() => [] as string[])) {
    await rm(join(deps.cacheMountsDir, name), { recursive: true, force: true });
    deleted.push(`cache-mount:${name.slice(0, 12)}`);
  }
  return { CachesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
}
