// Committing a build step: the new layer (if any) goes into the content store and the snapshotter,
// then the config and manifest blobs, then the image row (with its parent) in one transaction,
// the order that makes a crash leave only unreferenced blobs.
import type { Readable } from 'node:stream';
import { chainId } from '../lib/digest.ts';
import type { ContentStore } from '../store/content/store.ts';
import type { ImageStore } from '../store/images/store.ts';
import type { ImageRecord } from '../store/images/types.ts';
import { unpackLayer } from '../store/images/unpack.ts';
import type { Snapshotter } from '../store/snapshots/snapshotter.ts';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageManifest } from '../types/oci.ts';

export interface ImageCommitDeps {
  content: ContentStore;
  images: ImageStore;
  snapshots: Snapshotter;
}

export interface NewLayer {
  diffId: string;
  /** Bytes of the layer's snapshot (its own directory). */
  size: number;
}

/** Store a layer tar on top of `parentDiffIds`: the blob (digest = diff ID) and the unpacked snapshot. */
export async function addLayer(deps: ImageCommitDeps, parentDiffIds: readonly string[], tar: Readable): Promise<NewLayer> {
  const blob = await deps.content.writeStream(tar, { mediaType: MediaTypes.ociLayer });
  const { chainId: chain } = await unpackLayer({
    snapshotter: deps.snapshots,
    parentDiffIds,
    diffId: blob.digest,
    open: () => deps.content.readStream(blob.digest),
  });
  const size = (await deps.snapshots.stat(chain))?.size ?? 0;
  return { diffId: blob.digest, size };
}

/** Write the config and manifest blobs and the image row. `config.rootfs` must already list the layers. */
export async function commitImage(deps: ImageCommitDeps, opts: { parent?: ImageRecord; config: ImageConfig; layerSize: number }): Promise<ImageRecord> {
  const configBytes = Buffer.from(JSON.stringify(opts.config));
  const id = await deps.content.writeBytes(configBytes, { mediaType: MediaTypes.ociConfig });
  const existing = deps.images.get(id);
  if (existing) return existing;
  const layers: Descriptor[] = [];
  for (const d of opts.config.rootfs.diff_ids) {
    const info = await deps.content.info(d);
    layers.push({ mediaType: MediaTypes.ociLayer, digest: d, size: info?.size ?? 0 });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: id, size: configBytes.length },
    layers,
  };
  const manifestDigest = await deps.content.writeBytes(Buffer.from(JSON.stringify(manifest)), { mediaType: MediaTypes.ociManifest });
  const created = opts.config.created ? Date.parse(opts.config.created) : Date.now();
  return deps.images.put({
    id,
    config: opts.config,
    manifestDigest,
    chainId: chainId(opts.config.rootfs.diff_ids),
    size: (opts.parent?.size ?? 0) + opts.layerSize,
    parent: opts.parent?.id ?? '',
    created,
  });
}

/**
 * The layer directories of an image, top first (for LayerView). A copying snapshotter (vfs) keeps
 * a complete tree per snapshot: its top directory alone is the image's filesystem.
 */
export async function layerDirs(snapshots: Snapshotter, diffIds: readonly string[]): Promise<string[]> {
  if (diffIds.length === 0) return [];
  if (snapshots.layout === 'copy') return [await snapshots.upperDir(chainId(diffIds))];
  const dirs: string[] = [];
  for (let i = diffIds.length; i >= 1; i--) dirs.push(await snapshots.upperDir(chainId(diffIds.slice(0, i))));
  return dirs;
}
