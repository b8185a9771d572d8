import { Filters } from '../../lib/filters.ts';
import { familiarMatch } from '../../store/images/reference.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageSummary } from '../../types/docker.ts';
import type { ImageServiceDeps } from './deps.ts';
import { familiarAll, splitRefs } from './refs.ts';

export interface ListImagesParams {
  /** Show intermediate images (untagged parents of other images) too. */
  all?: boolean;
  /** The raw `filters` query parameter (JSON). */
  filters?: string | null;
}

const ALLOWED_FILTERS = ['dangling', 'label', 'label!', 'before', 'since', 'reference'];

/** `GET /images/json`, shaped like dockerd 20.10's answer (dangling images as `<none>:<none>`). */
export function listImages(deps: ImageServiceDeps, params: ListImagesParams = {}): ImageSummary[] {
  const filters = Filters.parse(params.filters, ALLOWED_FILTERS);
  const dangling = filters.bool('dangling');
  const before = filters.has('before') ? createdOf(deps, filters.get('before')[0]) : undefined;
  const since = filters.has('since') ? createdOf(deps, filters.get('since')[0]) : undefined;
  const referencePatterns = filters.get('reference');

  const out: ImageSummary[] = [];
  for (const img of deps.images.list()) {
    if (before !== undefined && img.created >= before) continue;
    if (since !== undefined && img.created <= since) continue;
    const labels = img.config.config?.Labels ?? null;
    if (!filters.matchLabels('label', labels)) continue;
    if (filters.has('label!') && filters.get('label!').some((l) => new Filters(new Map([['l', [l]]])).matchLabels('l', labels))) continue;

    let { tags, digests } = splitRefs(img.refs);
    if (referencePatterns.length > 0) {
      // Only the references that match are shown, as dockerd does.
      tags = tags.filter((r) => referencePatterns.some((p) => familiarMatch(p, r)));
      digests = digests.filter((r) => referencePatterns.some((p) => familiarMatch(p, r)));
      if (tags.length === 0 && digests.length === 0) continue;
    }
    let repoTags = familiarAll(tags);
    let repoDigests = familiarAll(digests);
    const isDangling = img.refs.length === 0;
    if (isDangling) {
      if (!params.all && deps.images.children(img.id).length > 0) continue; // intermediate image
      if (dangling === false) continue;
      repoTags = ['<none>:<none>'];
      repoDigests = ['<none>@<none>'];
    } else if (dangling === true) continue;
    out.push(summary(img, repoTags, repoDigests, labels));
  }
  return out;
}

function summary(img: ImageRecord, repoTags: string[], repoDigests: string[], labels: Record<string, string> | null): ImageSummary {
  return {
    Containers: -1,
    Created: Math.floor(img.created / 1000),
    Id: img.id,
    // dockerd sends null (not [] or {}) for empty lists and maps here.
    Labels: labels as Record<string, string>,
    ParentId: img.parent,
    RepoDigests: (repoDigests.length > 0 ? repoDigests : null) as string[],
    RepoTags: (repoTags.length > 0 ? repoTags : null) as string[],
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

function createdOf(deps: ImageServiceDeps, ref: string): number {
  return deps.images.lookup(ref).image.created;
}
