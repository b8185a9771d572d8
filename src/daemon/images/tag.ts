import { InvalidParameter } from '../../lib/errors.ts';
import { familiar, formatReference, parseNormalizedNamed, validateTag, withDefaultTag } from '../../store/images/reference.ts';
import { publishImageEvent, type ImageServiceDeps } from './deps.ts';

export interface TagImageParams {
  /** The source image as the user typed it (reference or ID). */
  name: string;
  /** The new repository; the docker CLI sends it fully qualified. */
  repo: string;
  tag?: string;
}

/** `POST /images/{name}/tag`: point `repo:tag` at the image. Returns the normalized new reference. */
export function tagImage(deps: ImageServiceDeps, params: TagImageParams): string {
  let ref = parseNormalizedNamed(params.repo);
  if (params.tag) {
    validateTag(params.tag);
    if (ref.digest !== undefined) throw new InvalidParameter('refusing to create a tag with a digest reference');
    ref = { ...ref, tag: params.tag };
  }
  if (ref.digest !== undefined) throw new InvalidParameter('refusing to create a tag with a digest reference');
  const target = formatReference(withDefaultTag(ref));
  const image = deps.images.lookup(params.name).image;
  deps.images.tag(image.id, target);
  publishImageEvent(deps, image.id, 'tag', familiar(target));
  return target;
}
