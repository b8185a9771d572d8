import { chainId as chainOf } from '../../lib/digest.ts';
import { isKind } from '../../lib/errors.ts';
import type { HistoryEntry, ImageConfig, ImageManifest, ImageRunConfig } from '../../types/oci.ts';
import { MediaTypes } from '../../types/oci.ts';
import type { ContentStore } from '../content/store.ts';
import { layerTar } from '../diff/layer.ts';
import type { Snapshotter } from '../snapshots/snapshotter.ts';
import type { ImageStore } from './store.ts';
import type { ImageRecord } from './types.ts';
import { unpackLayer } from './unpack.ts';

export interface CommitDeps {
  content: ContentStore;
  snapshotter: Snapshotter;
  images: ImageStore;
}

export interface CommitLayerOptions {
  /** The image the layer goes on top of; undefined for `FROM scratch`. */
  parent?: ImageRecord;
  /**
   * The active snapshot (prepared on `parent.chainId`) whose upper dir is the new layer. It must
   * not be mounted while `consume` is true.
   */
  snapshotKey: string;
  /**
   * true (a builder's RUN step): the active snapshot itself becomes the committed layer (no copy);
   * the key is gone afterwards, also when the layer turned out empty or already existed.
   * false (`docker commit` of a container that lives on): the layer is unpacked into a new
   * snapshot from the blob, the container's snapshot is left alone.
   */
  consume: boolean;
  /** The new image's run config (Cmd, Env, …) as a whole. */
  config: ImageRunConfig;
  /** The history entry of this step (`created` defaults to the image's creation time). */
  history: Omit<HistoryEntry, 'empty_layer'>;
  /** Image-level author and comment (docker commit's --author and --message). */
  author?: string;
  comment?: string;
  /** Normalized references to point at the new image. */
  refs?: readonly string[];
  /** Creation time; defaults to now (or to sourceDateEpoch when that is given). */
  now?: Date;
  /** Reproducible builds: clamp file times in the layer (and the default creation time) to this. */
  sourceDateEpoch?: number;
  /** An empty diff adds no layer, only a history entry with `empty_layer: true` (docker's rule). */
  emptyLayerAllowed?: boolean;
}

export interface CommitResult {
  image: ImageRecord;
  /** The new layer's diff ID; undefined when the diff was empty and no layer was added. */
  diffId?: string;
  chainId: string;
}

/**
 * Add the upper dir of an active snapshot as a new layer on top of an image, producing a new image
 * in the store: the uncompressed layer blob (digest = diff ID), the committed snapshot keyed by
 * the chain ID (reused if it exists), the config (parent's config, new run config, diff ID and
 * history appended) and manifest blobs, and last the image row. A failure leaves at most
 * unreferenced blobs (collectable content), never a row pointing at something missing.
 */
export async function commitLayer(deps: CommitDeps, opts: CommitLayerOptions): Promise<CommitResult> {
  const { content, snapshotter, images } = deps;
  const parent = opts.parent;
  const parentDiffIds = parent?.config.rootfs.diff_ids ?? [];
  const parentChain = parent?.chainId ?? '';

  // A snapshotter whose upper dir is not a diff (vfs) makes one for the layer.
  const diff = snapshotter.diff ? await snapshotter.diff(opts.snapshotKey) : { upper: await snapshotter.upperDir(opts.snapshotKey), release: async () => undefined };
  let blob;
  let entries: number;
  try {
    const tar = layerTar(diff.upper, opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {});
    blob = await content.writeStream(tar.stream, { mediaType: MediaTypes.ociLayer });
    ({ entries } = await tar.done);
  } finally {
    await diff.release();
  }
  const empty = entries === 0 && opts.emptyLayerAllowed !== false;

  let diffId: string | undefined;
  let chain = parentChain;
  let layerSize = 0;
  if (!empty) {
    diffId = blob.digest;
    chain = chainOf([...parentDiffIds, diffId]);
    if (await snapshotter.stat(chain)) {
      if (opts.consume) await snapshotter.remove(opts.snapshotKey);
    } else if (opts.consume) {
      try {
        await snapshotter.commit(chain, opts.snapshotKey);
      } catch (err) {
        // Another commit of the same layer won the race: use it, drop ours.
        if (!(isKind(err, 'Conflict') && (await snapshotter.stat(chain)))) throw err;
        await snapshotter.remove(opts.snapshotKey);
      }
    } else {
      await unpackLayer({ snapshotter, parentDiffIds, diffId, open: () => content.readStream(blob.digest) });
    }
    layerSize = (await snapshotter.stat(chain))?.size ?? 0;
  } else if (opts.consume) {
    await snapshotter.remove(opts.snapshotKey);
  }

  const now = opts.now ?? (opts.sourceDateEpoch !== undefined ? new Date(opts.sourceDateEpoch * 1000) : new Date());
  const created = now.toISOString();
  const base: Partial<ImageConfig> = parent ? structuredClone(parent.config) : {};
  const history: HistoryEntry[] = [...(base.history ?? [])];
  history.push({ created, ...opts.history, ...(empty ? { empty_layer: true } : {}) });
  const config: ImageConfig = {
    ...base,
    architecture: base.architecture ?? 'amd64',
    os: base.os ?? 'linux',
    created,
    config: opts.config,
    rootfs: { type: 'layers', diff_ids: diffId ? [...parentDiffIds, diffId] : [...parentDiffIds] },
    history,
  };
  delete config.author;
  delete config.comment;
  if (opts.author) config.author = opts.author;
  if (opts.comment) config.comment = opts.comment;

  const configBytes = Buffer.from(JSON.stringify(config));
  const id = await content.writeBytes(configBytes, { mediaType: MediaTypes.ociConfig });
  const layers = await manifestLayers(content, parent);
  if (diffId) layers.push({ mediaType: MediaTypes.ociLayer, digest: diffId, size: blob.size });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: id, size: configBytes.length },
    layers,
  };
  const manifestDigest = await content.writeBytes(Buffer.from(JSON.stringify(manifest)), { mediaType: MediaTypes.ociManifest });
  const image = images.put({ id, config, manifestDigest, chainId: chain, size: (parent?.size ?? 0) + layerSize, parent: parent?.id ?? '', created: now.getTime() }, opts.refs ?? []);
  const result: CommitResult = { image, chainId: chain };
  if (diffId) result.diffId = diffId;
  return result;
}

/** The parent's manifest layers (from its manifest blob when we have it, else one per diff ID). */
async function manifestLayers(content: ContentStore, parent: ImageRecord | undefined): Promise<ImageManifest['layers']> {
  if (!parent) return [];
  if (parent.manifestDigest && (await content.has(parent.manifestDigest))) {
    const m = JSON.parse((await content.readBytes(parent.manifestDigest)).toString('utf8')) as ImageManifest;
    if (Array.isArray(m.layers) && m.layers.length === parent.config.rootfs.diff_ids.length) return [...m.layers];
  }
  const out: ImageManifest['layers'] = [];
  for (const d of parent.config.rootfs.diff_ids) out.push({ mediaType: MediaTypes.ociLayer, digest: d, size: (await content.info(d))?.size ?? 0 });
  return out;
}
