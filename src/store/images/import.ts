import type { Readable } from 'node:stream';
import type { ImageConfig, ImageManifest } from '../../types/oci.ts';
import { MediaTypes } from '../../types/oci.ts';
import type { ContentStore } from '../content/store.ts';
import { decompressStream } from '../diff/compression.ts';
import type { Snapshotter } from '../snapshots/snapshotter.ts';
import { applyChanges } from './changes.ts';
import type { ImageStore } from './store.ts';
import type { ImageRecord } from './types.ts';
import { unpackLayer } from './unpack.ts';

export interface ImportDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  images: ImageStore;
}

export interface ImportRootfsOptions {
  /** Dockerfile lines (CMD, ENV, …) applied to the empty config. */
  changes?: readonly string[];
  /** History and image comment; defaults to `Imported from -`. */
  message?: string;
  /** Normalized references to point at the new image. */
  refs?: readonly string[];
  /** The creation time (injectable so tests get reproducible IDs). */
  now?: Date;
  architecture?: string;
  os?: string;
}

/**
 * `docker import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer image. Order makes it
 * crash-safe: the uncompressed layer blob (its digest is the diff ID), the committed snapshot, the
 * config and manifest blobs, and only then the image rows in one transaction. Blobs left by a
 * failure are unreferenced content that GC may collect; no snapshot or row survives a failure.
 */
export async function importRootfs(deps: ImportDeps, body: Readable, opts: ImportRootfsOptions = {}): Promise<ImageRecord> {
  const { content, snapshotter, images } = deps;
  const layer = await content.writeStream(decompressStream(body), { mediaType: MediaTypes.ociLayer });
  const diffId = layer.digest;

  const { chainId } = await unpackLayer({
    snapshotter,
    parentDiffIds: [],
    diffId,
    open: () => content.readStream(diffId),
  });
  const size = (await snapshotter.stat(chainId))?.size ?? 0;

  const created = (opts.now ?? new Date()).toISOString();
  const comment = opts.message || 'Imported from -';
  const runConfig = applyChanges({}, opts.changes ?? []);
  const config: ImageConfig = {
    architecture: opts.architecture ?? 'amd64',
    os: opts.os ?? 'linux',
    created,
    comment,
    ...(Object.keys(runConfig).length > 0 ? { config: runConfig } : {}),
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, comment }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = await content.writeBytes(configBytes, { mediaType: MediaTypes.ociConfig });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: id, size: configBytes.length },
    layers: [{ mediaType: MediaTypes.ociLayer, digest: diffId, size: layer.size }],
  };
  const manifestDigest = await content.writeBytes(Buffer.from(JSON.stringify(manifest)), { mediaType: MediaTypes.ociManifest });

  return images.put(
    { id, config, manifestDigest, chainId, size, parent: '', created: Date.parse(created) },
    opts.refs ?? [],
  );
}
