import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { chainId } from '../../lib/digest.ts';
import { isKind } from '../../lib/errors.ts';
import { syncFilesystem } from '../../os/syncfs.ts';
import type { Snapshotter } from '../snapshots/snapshotter.ts';

export interface UnpackLayerOptions {
  snapshotter: Snapshotter;
  /** diff IDs of the layers below, bottom first ([] for a base layer). */
  parentDiffIds: readonly string[];
  diffId: string;
  /** Opens the layer tar (compressed or not); only called when the layer is not unpacked yet. */
  open: () => Readable;
  /** Make the unpacked files durable (syncfs) before the snapshot is committed. */
  durable?: boolean;
}

/**
 * Make sure the layer `diffId` on top of `parentDiffIds` exists as a committed snapshot keyed by its
 * chain ID. Layers are unpacked once and shared: an existing snapshot is reused, and if another
 * unpack of the same layer wins the race to commit, ours is discarded. On failure the
 * half-unpacked active snapshot is removed. Returns the chain ID and whether it was unpacked now.
 */
export async function unpackLayer(opts: UnpackLayerOptions): Promise<{ chainId: string; unpacked: boolean }> {
  const { snapshotter } = opts;
  const parent = opts.parentDiffIds.length > 0 ? chainId(opts.parentDiffIds) : undefined;
  const chain = chainId([...opts.parentDiffIds, opts.diffId]);
  if (await snapshotter.stat(chain)) return { chainId: chain, unpacked: false };

  const key = `extract-${randomBytes(6).toString('hex')}-${chain}`;
  await snapshotter.prepare(key, parent);
  try {
    const dir = await snapshotter.upperDir(key);
    await (await loadApply())(opts.open(), dir, { whiteouts: snapshotter.layout === 'copy' ? 'delete' : 'overlay' });
    if (opts.durable) await syncFilesystem(dir);
    try {
      await snapshotter.commit(chain, key);
    } catch (err) {
      if (isKind(err, 'Conflict') && (await snapshotter.stat(chain))) {
        await snapshotter.remove(key);
        return { chainId: chain, unpacked: false };
      }
      throw err;
    }
  } catch (err) {
    await snapshotter.remove(key).catch(() => undefined);
    throw err;
  }
  return { chainId: chain, unpacked: true };
}

// The tar codec is loaded on first use: a daemon that never unpacks keeps ~5 MB less resident.
async function loadApply(): Promise<(typeof import('../diff/apply.ts'))['applyLayer']> {
  return (await import('../diff/apply.ts')).applyLayer;
}
