import type { Readable } from 'node:stream';
import { InvalidParameter, NotImplemented } from '../../lib/errors.ts';
import { familiar, formatReference, parseNormalizedNamed, validateTag, withDefaultTag } from '../../store/images/reference.ts';
import { publishImageEvent, type ImageServiceDeps } from './deps.ts';

export interface ImportImageParams {
  /** `-` (the request body); URLs are not supported. */
  fromSrc: string;
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
}

/** The normalized reference an import will create (undefined without `repo`); throws InvalidParameter. */
export function importTarget(params: ImportImageParams): string | undefined {
  if (params.fromSrc === '') throw new InvalidParameter('either fromImage or fromSrc must be given');
  if (params.fromSrc !== '-') throw new NotImplemented(`importing from ${params.fromSrc} is not supported; send the tarball as the request body (fromSrc=-)`);
  if (!params.repo) return undefined;
  let ref = parseNormalizedNamed(params.repo);
  if (ref.digest !== undefined) throw new InvalidParameter('cannot import digest reference');
  if (params.tag) {
    validateTag(params.tag);
    ref = { ...ref, tag: params.tag };
  }
  return formatReference(withDefaultTag(ref));
}

/** `POST /images/create?fromSrc=-`: import a rootfs tarball; returns the image ID. */
export async function importImage(deps: ImageServiceDeps, params: ImportImageParams, body: Readable): Promise<string> {
  const target = importTarget(params);
  // the unpacker (tar-stream, zlib) loads with the first import, not with the daemon
  const { importRootfs } = await import('../../store/images/import.ts');
  const image = await importRootfs({ content: deps.content, snapshotter: deps.snapshots, images: deps.images }, body, {
    changes: params.changes ?? [],
    message: params.message,
    refs: target ? [target] : [],
  });
  const labels = image.config.config?.Labels;
  if (target) publishImageEvent(deps, image.id, 'tag', familiar(target), labels);
  publishImageEvent(deps, image.id, 'import', image.id, labels);
  return image.id;
}
