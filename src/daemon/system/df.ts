import { chainId } from '../../lib/digest.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { ContainerSummary, ImageSummary } from '../../types/docker.ts';
import type { ContainerDeps } from '../containers/deps.ts';
import { containerRwSize } from '../containers/size.ts';
import { summary } from '../containers/view.ts';
import type { ImageServiceDeps } from '../images/deps.ts';
import { listImages } from '../images/list.ts';

/**
 * What `system df` reads. Volumes and the build cache come from their own areas through hooks
 * (cmd/berthd.ts wires them); without a hook the list is empty.
 */
export interface SystemDfDeps {
  containers: ContainerDeps;
  images: ImageServiceDeps;
  /** Volumes with UsageData {Size, RefCount}. */
  volumes?: () => Promise<unknown[]>;
  /** Build cache records and the bytes they hold (BuilderSize). */
  buildCache?: () => Promise<{ records: unknown[]; size: number }>;
}

export interface SystemDfResponse {
  LayersSize?: number;
  Images?: ImageSummary[];
  Containers?: ContainerSummary[];
  Volumes?: unknown[];
  BuildCache?: unknown[] | null;
  BuilderSize?: number;
}

const TYPES = ['container', 'image', 'volume', 'build-cache'] as const;
type DfType = (typeof TYPES)[number];

/** GET /system/df (`type` narrows it to some of container, image, volume, build-cache; API 1.42). */
export async function systemDf(deps: SystemDfDeps, types: readonly string[] = []): Promise<SystemDfResponse> {
  for (const t of types) if (!(TYPES as readonly string[]).includes(t)) throw new InvalidParameter(`unknown object type: ${t}`);
  const want = (t: DfType): boolean => types.length === 0 || types.includes(t);
  const out: SystemDfResponse = {};

  if (want('image')) {
    const records = deps.images.images.list();
    // Each layer (a chain ID) with its size and how many images use it.
    const layers = new Map<string, { size: number; users: number }>();
    const chainsOf = new Map<string, string[]>();
    for (const img of records) {
      const ids = img.config.rootfs.diff_ids;
      const chains: string[] = [];
      for (let i = 1; i <= ids.length; i++) chains.push(chainId(ids.slice(0, i)));
      chainsOf.set(img.id, chains);
      for (const c of chains) {
        const l = layers.get(c) ?? { size: (await deps.images.snapshots.stat(c))?.size ?? 0, users: 0 };
        l.users++;
        layers.set(c, l);
      }
    }
    out.LayersSize = [...layers.values()].reduce((n, l) => n + l.size, 0);
    const usedBy = new Map<string, number>();
    for (const rec of deps.containers.repo.all()) usedBy.set(rec.imageId, (usedBy.get(rec.imageId) ?? 0) + 1);
    out.Images = listImages(deps.images, {}).map((s) => ({
      ...s,
      Containers: usedBy.get(s.Id) ?? 0,
      SharedSize: (chainsOf.get(s.Id) ?? []).reduce((n, c) => n + ((layers.get(c)?.users ?? 0) > 1 ? layers.get(c)!.size : 0), 0),
    }));
  }
  if (want('container')) {
    const list: ContainerSummary[] = [];
    const recs = deps.containers.repo.all().sort((a, b) => (a.created < b.created ? 1 : -1));
    for (const rec of recs) {
      const rw = await containerRwSize(deps.containers, rec.id);
      const image = deps.images.images.get(rec.imageId);
      list.push(summary(rec, { rw, rootFs: rw + (image?.size ?? 0) }, deps.containers));
    }
    out.Containers = list;
  }
  if (want('volume')) out.Volumes = deps.volumes ? await deps.volumes() : [];
  if (want('build-cache')) {
    const bc = deps.buildCache ? await deps.buildCache() : { records: [], size: 0 };
    out.BuildCache = bc.records;
    out.BuilderSize = bc.size;
  }
  return out;
}
