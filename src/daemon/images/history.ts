import { chainId } from '../../lib/digest.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageHistoryItem } from '../../types/docker.ts';
import type { HistoryEntry } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import { familiarAll, splitRefs } from './refs.ts';

function tagsOf(img: ImageRecord): string[] | null {
  const tags = familiarAll(splitRefs(img.refs).tags);
  return tags.length > 0 ? tags : null;
}

/** `GET /images/{name}/history`: newest first; local parent images lend their IDs and tags. */
export async function imageHistory(deps: ImageServiceDeps, name: string): Promise<ImageHistoryItem[]> {
  const img = deps.images.lookup(name).image;
  const diffIds = img.config.rootfs.diff_ids;
  const history: HistoryEntry[] = img.config.history?.length ? img.config.history : diffIds.map(() => ({ created: img.config.created }));

  const items: ImageHistoryItem[] = [];
  let layer = 0;
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer && layer < diffIds.length) {
      layer++;
      size = (await deps.snapshots.stat(chainId(diffIds.slice(0, layer))))?.size ?? 0;
    }
    items.push({
      Comment: h.comment ?? '',
      Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
      CreatedBy: h.created_by ?? '',
      Id: '<missing>',
      Size: size,
      Tags: null,
    });
  }
  // The last entry of each local ancestor (and of the image itself) carries that image's ID.
  for (let cur: ImageRecord | undefined = img; cur; cur = cur.parent ? deps.images.get(cur.parent) : undefined) {
    const n = cur.config.history?.length ?? 0;
    if (n === 0 || n > items.length) break;
    const item = items[n - 1];
    item.Id = cur.id;
    item.Tags = tagsOf(cur);
  }
  if (items.length > 0 && items[items.length - 1].Id === '<missing>') {
    items[items.length - 1].Id = img.id;
    items[items.length - 1].Tags = tagsOf(img);
  }
  return items.reverse();
}
