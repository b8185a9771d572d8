// `POST /images/{name}/push`: upload an image's blobs (skipping those the registry has, or
// mounting them from another repository of the same registry the image came from), then its
// manifest under the tag. The stored manifest is pushed byte for byte, so the digest is stable.
import { Transform } from 'node:stream';
import { shortId, sha256 } from '../../lib/digest.ts';
import { InvalidParameter, NotFound, NotImplemented } from '../../lib/errors.ts';
import { decodeRegistryAuth } from '../../registry/client/auth.ts';
import type { RegistrySession } from '../../registry/client/types.ts';
import { parseManifest } from '../../registry/manifest.ts';
import { familiar, formatReference, parseFullyQualified, parseNormalizedNamed, validateTag, type Reference } from '../../store/images/reference.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import { MediaTypes, type Descriptor } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import { mapLimit, ProgressCounter, status, type ProgressSink } from './progress.ts';
import { nameOf } from './registry-ref.ts';

export interface PushParams {
  name: string;
  tag?: string;
  registryAuth?: string;
}

const CONCURRENT_UPLOADS = 3;

/** The tags to push: the one asked for, or every tag of the repository. */
function tagsToPush(deps: ImageServiceDeps, repo: Reference, tag: string | undefined): string[] {
  if (tag) return [tag];
  const name = nameOf(repo);
  const tags: string[] = [];
  for (const img of deps.images.list()) {
    for (const ref of img.refs) {
      const r = parseFullyQualified(ref);
      if (r.tag !== undefined && r.digest === undefined && nameOf(r) === name) tags.push(r.tag);
    }
  }
  if (tags.length === 0) throw new NotFound(`An image does not exist locally with the tag: ${familiar(repo)}`);
  return tags.sort();
}

export async function pushImage(deps: ImageServiceDeps, params: PushParams, sink: ProgressSink): Promise<void> {
  const parsed = parseNormalizedNamed(params.name);
  if (parsed.digest !== undefined) throw new InvalidParameter('cannot push a digest reference');
  const tag = params.tag || parsed.tag;
  if (tag) validateTag(tag);
  const repo: Reference = { domain: parsed.domain, path: parsed.path };
  if (!deps.registry) throw new NotImplemented('this berthd has no registry client');
  sink({ status: `The push refers to repository [${nameOf(repo)}]` });
  const tags = tagsToPush(deps, repo, tag);
  const session = await deps.registry({ domain: repo.domain, credentials: decodeRegistryAuth(params.registryAuth), purpose: 'push' });
  for (const t of tags) {
    const ref = formatReference({ ...repo, tag: t });
    const image = deps.images.byRef(ref);
    if (!image) throw new NotFound(`An image does not exist locally with the tag: ${familiar(ref)}`);
    await pushOne(deps, session, repo, t, image, sink);
  }
}

/** A repository of the same registry this image was pulled from or pushed to: its blobs can be mounted. */
function mountSource(image: ImageRecord, repo: Reference): string | undefined {
  for (const ref of image.refs) {
    const r = parseFullyQualified(ref);
    if (r.domain === repo.domain && r.path !== repo.path) return r.path;
  }
  return undefined;
}

async function pushOne(deps: ImageServiceDeps, session: RegistrySession, repo: Reference, tag: string, image: ImageRecord, sink: ProgressSink): Promise<void> {
  if (!image.manifestDigest) throw new NotFound(`image ${image.id} has no manifest to push`);
  const manifestBytes = await deps.content.readBytes(image.manifestDigest);
  const manifest = parseManifest(manifestBytes);
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new InvalidParameter(`image ${image.id}: stored manifest has no config or layers`);
  const from = mountSource(image, repo);
  const layers: Descriptor[] = manifest.layers;
  for (const l of layers) sink(status(shortId(l.digest), 'Preparing'));

  const upload = async (d: Descriptor, id: string | undefined): Promise<void> => {
    if ((await session.headBlob(repo.path, d.digest)) !== undefined) {
      if (id) sink(status(id, 'Layer already exists'));
      return;
    }
    const info = await deps.content.info(d.digest);
    if (!info) throw new NotFound(`blob ${d.digest} of image ${image.id} is missing from the content store`);
    const counter = id ? new ProgressCounter(sink, id, 'Pushing', info.size) : undefined;
    const result = await session.uploadBlob(repo.path, d.digest, info.size, () => {
      const src = deps.content.readStream(d.digest);
      if (!counter) return src;
      return src.pipe(
        new Transform({
          highWaterMark: 1 << 20,
          transform(chunk: Buffer, _enc, cb) {
            counter.add(chunk.length);
            cb(null, chunk);
          },
        }),
      );
    }, from);
    if (id) sink(status(id, result === 'mounted' ? `Mounted from ${from}` : 'Pushed'));
  };

  await mapLimit(layers, CONCURRENT_UPLOADS, (l) => upload(l, shortId(l.digest)));
  await upload(manifest.config, undefined);
  const mediaType = manifest.mediaType ?? MediaTypes.ociManifest;
  const digest = sha256(manifestBytes);
  await session.putManifest(repo.path, tag, manifestBytes, mediaType);
  deps.images.tag(image.id, `${nameOf(repo)}@${digest}`);
  deps.events.publish('image', 'push', familiar({ ...repo, tag }), { name: familiar({ ...repo, tag }) });
  sink({ status: `${tag}: digest: ${digest} size: ${manifestBytes.length}` });
  sink({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifestBytes.length } });
}
