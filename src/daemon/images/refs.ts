import { familiar, parseFullyQualified, type Reference } from '../../store/images/reference.ts';

/** An image's stored references split as the API shows them: RepoTags and RepoDigests, familiar. */
export function splitRefs(refs: readonly string[]): { tags: Reference[]; digests: Reference[] } {
  const tags: Reference[] = [];
  const digests: Reference[] = [];
  for (const s of refs) {
    const r = parseFullyQualified(s);
    if (r.digest !== undefined) digests.push(r);
    else tags.push(r);
  }
  return { tags, digests };
}

export function familiarAll(refs: readonly Reference[]): string[] {
  return refs.map((r) => familiar(r));
}
