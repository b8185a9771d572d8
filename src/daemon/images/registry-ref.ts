// Reference handling shared by pull and push: what the user named, split into the registry
// domain, the repository path on it, and a tag or digest.
import { InvalidParameter } from '../../lib/errors.ts';
import { DEFAULT_TAG, formatReference, parseNormalizedNamed, validateTag, type Reference } from '../../store/images/reference.ts';

export interface RemoteRef {
  ref: Reference;
  /** Repository path on the registry (`library/busybox`, `test/x`). */
  repo: string;
  /** The tag or digest to ask for. */
  target: string;
}

/** `fromImage` + `tag` as the API sends them (the tag may be a digest: `tag=sha256:…`). */
export function remoteRef(fromImage: string, tag?: string): RemoteRef {
  let ref = parseNormalizedNamed(fromImage);
  if (tag) {
    if (/^[a-z0-9]+:[a-f0-9]{32,}$/i.test(tag)) {
      if (!/^sha256:[a-f0-9]{64}$/.test(tag)) throw new InvalidParameter(`invalid digest: ${tag} (only sha256 is supported)`);
      ref = { domain: ref.domain, path: ref.path, digest: tag };
    } else {
      validateTag(tag);
      ref = { domain: ref.domain, path: ref.path, tag };
    }
  }
  if (ref.digest !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(ref.digest)) throw new InvalidParameter(`invalid digest: ${ref.digest} (only sha256 is supported)`);
    ref = { domain: ref.domain, path: ref.path, digest: ref.digest };
  } else if (ref.tag === undefined) ref = { ...ref, tag: DEFAULT_TAG };
  return { ref, repo: ref.path, target: ref.digest ?? ref.tag! };
}

export function nameOf(r: Reference): string {
  return formatReference({ domain: r.domain, path: r.path });
}

