// Layer transfer for pulls. `blobBytes` streams a blob from the registry and resumes a broken
// connection with Range. `fetchAndUnpack` handles one layer for snapshotters whose layers are
// independent directories (overlay): the download is read once and feeds, at the same time, the
// content store (hashed against the layer digest) and the unpack into a fresh snapshot directory
// (hashed against the diff ID when compressed; for a plain tar the two digests are the same).
// Nothing becomes visible before both digests matched: the blob is published only then, and the
// snapshot is committed only after its files are durable and the layer below it is committed.
import { randomBytes } from 'node:crypto';
import { BerthError, InvalidParameter, errorMessage, isKind } from '../../lib/errors.ts';
import { failpoint } from '../../lib/failpoint.ts';
import { log } from '../../lib/logger.ts';
import { syncFilesystem } from '../../os/syncfs.ts';
import type { RegistrySession } from '../../registry/client/types.ts';
import type { ContentWriter } from '../../store/content/store.ts';
import type { Descriptor } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import { ProgressCounter, status, type ProgressSink } from './progress.ts';

const DOWNLOAD_ATTEMPTS = 4;


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function retryable(err: unknown): boolean {
  if (err instanceof BerthError) return err.kind === 'Unavailable';
  return true; // socket resets and truncated bodies surface as plain errors
}

/**
 * The bytes of `layer` from the registry, in order and exactly once: a broken download is resumed
 * from where it stopped (Range), up to 4 attempts. `onReceived` gets the running total.
 */
export async function* blobBytes(session: RegistrySession, repo: string, layer: Descriptor, signal: AbortSignal, onReceived: (n: number) => void): AsyncGenerator<Buffer> {
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const { body } = await session.getBlob(repo, layer.digest, received, signal);
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          if (signal.aborted) throw new Error('pull aborted');
          received += chunk.length;
          if (received > layer.size) throw new InvalidParameter(`layer ${layer.digest}: registry sent more than ${layer.size} bytes`);
          onReceived(received);
          yield chunk;
          failpoint('pull-layer-downloading');
        }
      } finally {
        body.destroy();
      }
      return;
    } catch (err) {
      if (signal.aborted || attempt >= DOWNLOAD_ATTEMPTS || !retryable(err) || isKind(err, 'InvalidParameter')) throw err;
      log.debug('layer download interrupted; resuming', { digest: layer.digest, received, error: errorMessage(err) });
      await sleep(250 * 2 ** (attempt - 1));
    }
  }
}

export interface LayerJob {
  layer: Descriptor;
  /** Short ID for progress messages. */
  id: string;
  diffId: string;
  /** Chain ID of this layer, and of the layer below (undefined for the base layer). */
  chain: string;
  parentChain: string | undefined;
  /** Settles when the layer below is committed (resolved at once for the base layer). */
  below: Promise<void>;
}

export interface LayerContext {
  session: RegistrySession;
  repo: string;
  sink: ProgressSink;
  signal: AbortSignal;
}

/**
 * Fetch (or read the stored blob) and unpack one layer, committing its snapshot on top of the layer
 * below. `transferred` is called once the bytes are all in (the download slot can go to the next
 * layer while this one is made durable and waits for the layer below).
 */
export async function fetchAndUnpack(deps: ImageServiceDeps, ctx: LayerContext, job: LayerJob, transferred: () => void): Promise<void> {
  const { content, snapshots } = deps;
  const { layer, id, sink } = { ...job, sink: ctx.sink };
  const haveBlob = await content.has(layer.digest);
  const haveSnapshot = (await snapshots.stat(job.chain)) !== undefined;

  const { layerSink } = await import('../../store/diff/apply.ts'); // the tar codec loads on first use
  // Unpacked before (from another blob of the same content): still prove this blob is that layer.
  let key = haveSnapshot ? undefined : `extract-${randomBytes(6).toString('hex')}-${job.chain}`;
  if (key !== undefined) await snapshots.prepare(key);
  const dir = key !== undefined ? await snapshots.upperDir(key) : undefined;
  // A stored blob is hashed here (its diff ID is all there is to check); a download is hashed by
  // the content writer, which for a plain tar already is the diff ID.
  const unpack = layerSink(dir, { whiteouts: 'overlay', diffId: haveBlob ? 'always' : 'compressed', durable: true, hashOffThread: layer.size >= 4 << 20 });
  let writer: ContentWriter | undefined;
  try {
    if (haveBlob) {
      sink(status(id, 'Download complete'));
      const counter = new ProgressCounter(sink, id, 'Extracting', layer.size);
      for await (const chunk of content.readStream(layer.digest) as AsyncIterable<Buffer>) {
        counter.add(chunk.length);
        const wait = unpack.write(chunk);
        if (wait) await wait;
      }
    } else {
      writer = await content.openWriter({ expected: layer.digest, mediaType: layer.mediaType, size: layer.size });
      const counter = new ProgressCounter(sink, id, 'Downloading', layer.size);
      for await (const chunk of blobBytes(ctx.session, ctx.repo, layer, ctx.signal, (n) => counter.set(n))) {
        const w1 = writer.write(chunk);
        const w2 = unpack.write(chunk);
        if (w1) await w1;
        if (w2) await w2;
      }
      const got = await writer.digest();
      if (got !== layer.digest) throw new InvalidParameter(`layer ${id}: digest mismatch: expected ${layer.digest}, got ${got}`);
      sink(status(id, 'Verifying Checksum'));
      sink(status(id, 'Download complete'));
      // The unpack ran along with the download; what is left is its tail.
      if (dir !== undefined) sink({ status: 'Extracting', progressDetail: { current: layer.size, total: layer.size }, id });
    }
    transferred();
    const result = await unpack.end();
    const diffId = result.diffId ?? (await writer?.digest());
    if (diffId !== job.diffId) throw new InvalidParameter(`layer ${id}: digest mismatch: expected ${job.diffId}, got ${diffId}`);
    // Durable before anything refers to it: the blob (fsync + rename) and every unpacked file.
    // allSettled: a failed sync must not start the cleanup while the commit is still running.
    const durable = await Promise.allSettled([writer?.commit(), dir !== undefined ? syncFilesystem(dir) : undefined]);
    for (const r of durable) if (r.status === 'rejected') throw r.reason;
    if (key !== undefined) {
      await job.below;
      try {
        await snapshots.commit(job.chain, key, { parent: job.parentChain });
      } catch (err) {
        // another pull committed the same layer first: keep theirs
        if (!isKind(err, 'Conflict') || !(await snapshots.stat(job.chain))) throw err;
        await snapshots.remove(key);
      }
      key = undefined;
    }
  } catch (err) {
    // Every step runs even if one before it fails: nothing half-made stays behind.
    await unpack.destroy(err instanceof Error ? err : new Error(String(err))).catch(() => undefined);
    await writer?.abort().catch(() => undefined);
    if (key !== undefined) await snapshots.remove(key).catch(() => undefined);
    throw err;
  }
  sink(status(id, 'Pull complete'));
}
