// `GET /images/get` (docker save): a docker-archive as Docker 25+ writes it, which is also an OCI
// image layout: blobs/sha256/<hex> (configs, uncompressed layers, OCI manifests), index.json,
// oci-layout, plus the legacy manifest.json and repositories for older loaders. Configs are copied
// byte for byte, so a load gives the same image IDs.
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex, shortId } from '../../lib/digest.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import { decompressStream } from '../../store/diff/compression.ts';
import { familiar, familiarName, parseFullyQualified } from '../../store/images/reference.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import { MediaTypes, type Descriptor, type ImageManifest } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';

interface SaveItem {
  image: ImageRecord;
  /** Normalized tag references to record (the one asked for, or all tags when saved by ID). */
  tags: string[];
}

/** Resolve the names before any byte is sent (a missing image is a 404). */
export function resolveSave(deps: ImageServiceDeps, names: string[]): SaveItem[] {
  if (names.length === 0) throw new InvalidParameter('no images to save');
  const byId = new Map<string, SaveItem>();
  for (const name of names) {
    const { image, matchedRef } = deps.images.lookup(name);
    const item = byId.get(image.id) ?? { image, tags: [] };
    byId.set(image.id, item);
    if (matchedRef !== undefined) {
      if (parseFullyQualified(matchedRef).digest === undefined && !item.tags.includes(matchedRef)) item.tags.push(matchedRef);
    } else {
      // by ID: docker keeps every tag of the image
      for (const r of image.refs) if (parseFullyQualified(r).digest === undefined && !item.tags.includes(r)) item.tags.push(r);
    }
  }
  return [...byId.values()];
}

/** Uncompressed size and digest of a layer blob (a first pass, so the tar header can carry the size). */
async function measure(open: () => Readable): Promise<{ size: number; digest: string }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of decompressStream(open()) as AsyncIterable<Buffer>) {
    h.update(c);
    size += c.length;
  }
  return { size, digest: 'sha256:' + h.digest('hex') };
}

export async function saveImages(deps: ImageServiceDeps, items: SaveItem[], out: Writable): Promise<void> {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const piping = pipeline(pack, out);
  piping.catch(() => undefined);
  const mtime = new Date(0);
  const written = new Set<string>();
  const layerSizes = new Map<string, number>();
  const addBytes = async (name: string, data: Buffer): Promise<void> => {
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mtime, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
  };
  const addBlob = async (digest: string, data: Buffer): Promise<string> => {
    const path = `blobs/sha256/${digestHex(digest)}`;
    if (!written.has(digest)) {
      written.add(digest);
      await addBytes(path, data);
    }
    return path;
  };
  pack.entry({ name: 'blobs/', type: 'directory', mtime, mode: 0o755 });
  pack.entry({ name: 'blobs/sha256/', type: 'directory', mtime, mode: 0o755 });

  const legacy: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const index: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags } of items) {
    const configBytes = await deps.content.readBytes(image.id);
    const configPath = await addBlob(image.id, configBytes);
    const diffIds = image.config.rootfs.diff_ids;
    let stored: ImageManifest | undefined;
    if (image.manifestDigest) stored = JSON.parse((await deps.content.readBytes(image.manifestDigest)).toString('utf8')) as ImageManifest;
    const layerPaths: string[] = [];
    const layerDescs: Descriptor[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      const diffId = diffIds[i];
      const blob = stored?.layers[i]?.digest ?? diffId;
      const path = `blobs/sha256/${digestHex(diffId)}`;
      layerPaths.push(path);
      let size = layerSizes.get(diffId);
      if (size === undefined) {
        const open = (): Readable => deps.content.readStream(blob);
        if (blob === diffId) size = (await deps.content.info(blob))?.size ?? 0;
        else {
          const m = await measure(open);
          if (m.digest !== diffId) throw new InvalidParameter(`layer ${shortId(blob)} of ${image.id} does not match its diff ID`);
          size = m.size;
        }
        layerSizes.set(diffId, size);
        const entry = pack.entry({ name: path, size, mtime, mode: 0o644 });
        await pipeline(blob === diffId ? open() : decompressStream(open()), entry);
      }
      layerDescs.push({ mediaType: MediaTypes.ociLayer, digest: diffId, size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: image.id, size: configBytes.length },
      layers: layerDescs,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = 'sha256:' + createHash('sha256').update(manifestBytes).digest('hex');
    await addBlob(manifestDigest, manifestBytes);
    const repoTags = tags.map((t) => familiar(t));
    const desc = { mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    if (tags.length === 0) index.push(desc);
    for (const t of tags) {
      const r = parseFullyQualified(t);
      index.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': r.tag ?? 'latest' } });
      const repo = familiarName(r);
      repositories[repo] ??= {};
      if (diffIds.length > 0) repositories[repo][r.tag ?? 'latest'] = digestHex(diffIds[diffIds.length - 1]);
    }
    legacy.push({ Config: configPath, RepoTags: repoTags.length > 0 ? repoTags : null, Layers: layerPaths });
  }
  await addBytes('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: index })));
  await addBytes('manifest.json', Buffer.from(JSON.stringify(legacy)));
  await addBytes('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  if (Object.keys(repositories).length > 0) await addBytes('repositories', Buffer.from(JSON.stringify(repositories)));
  pack.finalize();
  await piping;
  for (const { image } of items) deps.events.publish('image', 'save', image.id, { name: image.id });
}
