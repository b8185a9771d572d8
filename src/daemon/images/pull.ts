// `POST /images/create?fromImage=`: resolve a reference on its registry (index → host platform),
// then fetch the missing layers (3 at a time) and record the image. On overlay each layer is
// unpacked while it downloads (pull-layers.ts); on vfs, whose layers build on the tree below,
// downloads run ahead and unpacking follows in layer order. Either way a blob is committed to the
// content store only after its digest matched, and a snapshot only after its diff ID matched and
// its files are durable. Docker's JSON progress is written to the sink. An interrupted download
// is retried from where it stopped (Range); a failed pull leaves no partial blob or snapshot.
import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chainId, shortId, sha256 } from '../../lib/digest.ts';
import { BerthError, InvalidParameter, NotFound, NotImplemented, SystemError, Unavailable, errorMessage, isKind } from '../../lib/errors.ts';
import { failpoint } from '../../lib/failpoint.ts';
import { log } from '../../lib/logger.ts';
import { decodeRegistryAuth } from '../../registry/client/auth.ts';
import type { RegistrySession } from '../../registry/client/types.ts';
import { formatPlatform, hostPlatform, isIndexType, parseManifest, parsePlatform, platformMatches, IMAGE_MANIFEST_TYPES, type AnyManifest } from '../../registry/manifest.ts';
import { decompressStream } from '../../store/diff/compression.ts';
import { familiar, formatReference, parseNormalizedNamed } from '../../store/images/reference.ts';
import { unpackLayer } from '../../store/images/unpack.ts';
import type { Descriptor, ImageConfig, Platform } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import { mapLimit, ProgressCounter, status, type ProgressSink } from './progress.ts';
import { blobBytes, fetchAndUnpack, type LayerContext } from './pull-layers.ts';
import { nameOf, remoteRef, type RemoteRef } from './registry-ref.ts';

export interface PullParams {
  fromImage: string;
  tag?: string;
  platform?: string;
  /** The X-Registry-Auth header. */
  registryAuth?: string;
  /** Pull every tag of the repository (`docker pull -a`: the API request names no tag). */
  allTags?: boolean;
}

/** A resolved pull: the manifest is known; `run` downloads and records the image. */
export interface PullPlan {
  /** The familiar reference, for messages. */
  display: string;
  /** `signal`: the client went away; stop downloading (dockerd cancels a pull the same way). */
  run(sink: ProgressSink, signal?: AbortSignal): Promise<string>;
}

const CONCURRENT_DOWNLOADS = 3;

/** Turn a registry failure into dockerd's words (and status) for this reference. */
function pullError(err: unknown, r: RemoteRef): Error {
  if (!(err instanceof BerthError)) return err instanceof Error ? err : new Error(String(err));
  const code = (err as { code?: unknown }).code;
  const name = familiar({ domain: r.ref.domain, path: r.ref.path });
  if (isKind(err, 'Unauthorized') || isKind(err, 'Forbidden') || code === 'NAME_UNKNOWN' || code === 'DENIED' || code === 'UNAUTHORIZED') {
    // dockerd answers 500 here (a 401 would make the docker CLI try to log in interactively)
    return new SystemError(`pull access denied for ${name}, repository does not exist or may require 'docker login': ${err.message}`);
  }
  if (isKind(err, 'NotFound')) return new NotFound(`manifest for ${familiar(r.ref)} not found: ${err.message}`);
  return err;
}

function verifyDigest(expected: string, what: string): Transform {
  const h = createHash('sha256');
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const actual = 'sha256:' + h.digest('hex');
      cb(actual === expected ? null : new InvalidParameter(`${what}: digest mismatch: expected ${expected}, got ${actual}`));
    },
  });
}

function counting(onBytes: (n: number) => void): Transform {
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/** Pick the manifest for `platform` from an index. */
function selectPlatform(index: AnyManifest, platform: Platform, display: string): Descriptor {
  const entries = (index.manifests ?? []).filter((d) => IMAGE_MANIFEST_TYPES.includes(d.mediaType) || d.mediaType === undefined);
  const match = entries.find((d) => platformMatches(d.platform, platform)) ?? entries.find((d) => platformMatches(d.platform, { os: platform.os, architecture: platform.architecture }));
  if (!match) throw new NotFound(`no matching manifest for ${formatPlatform(platform)} in the manifest list entries: ${display}`);
  return match;
}

export async function preparePull(deps: ImageServiceDeps, params: PullParams): Promise<PullPlan> {
  if (params.allTags && params.tag === undefined) {
    const named = parseNormalizedNamed(params.fromImage);
    if (named.tag === undefined && named.digest === undefined) return prepareAllTags(deps, params);
  }
  const r = remoteRef(params.fromImage, params.tag);
  if (!deps.registry) throw new NotImplemented('this berthd has no registry client');
  let platform: Platform;
  try {
    platform = params.platform ? parsePlatform(params.platform) : hostPlatform();
  } catch (err) {
    throw new InvalidParameter(errorMessage(err));
  }
  const session = await deps.registry({ domain: r.ref.domain, credentials: decodeRegistryAuth(params.registryAuth), purpose: 'pull' });
  const display = familiar(r.ref);
  let top: { bytes: Buffer; mediaType: string };
  try {
    top = await session.getManifest(r.repo, r.target);
  } catch (err) {
    throw pullError(err, r);
  }
  const topDigest = sha256(top.bytes);
  if (r.ref.digest && topDigest !== r.ref.digest) throw new InvalidParameter(`manifest digest mismatch: asked for ${r.ref.digest}, registry sent ${topDigest}`);
  let manifestBytes = top.bytes;
  let manifestDigest = topDigest;
  let parsed: AnyManifest;
  try {
    parsed = parseManifest(top.bytes);
  } catch (err) {
    throw new InvalidParameter(`invalid manifest for ${display}: ${errorMessage(err)}`);
  }
  const topType = parsed.mediaType ?? top.mediaType;
  if (isIndexType(topType) || Array.isArray(parsed.manifests)) {
    const chosen = selectPlatform(parsed, platform, display);
    let child: { bytes: Buffer };
    try {
      child = await session.getManifest(r.repo, chosen.digest);
    } catch (err) {
      throw pullError(err, r);
    }
    if (sha256(child.bytes) !== chosen.digest) throw new InvalidParameter(`manifest digest mismatch for ${chosen.digest}`);
    manifestBytes = child.bytes;
    manifestDigest = chosen.digest;
    parsed = parseManifest(child.bytes);
  } else if (topType && !IMAGE_MANIFEST_TYPES.includes(topType)) {
    throw new InvalidParameter(`unsupported manifest media type for ${display}: ${topType}`);
  }
  if (!parsed.config || !Array.isArray(parsed.layers)) throw new InvalidParameter(`invalid manifest for ${display}: no config or layers`);
  const manifest = { ...parsed, config: parsed.config, layers: parsed.layers };
  return {
    display,
    run: (sink, signal) => runPull(deps, { session, r, topDigest, manifestBytes, manifestDigest, manifest, platform, display }, sink, signal),
  };
}

/** `docker pull -a`: every tag the registry lists, one after the other. */
async function prepareAllTags(deps: ImageServiceDeps, params: PullParams): Promise<PullPlan> {
  const r = remoteRef(params.fromImage);
  if (!deps.registry) throw new NotImplemented('this berthd has no registry client');
  const session = await deps.registry({ domain: r.ref.domain, credentials: decodeRegistryAuth(params.registryAuth), purpose: 'pull' });
  let tags: string[];
  try {
    tags = await session.listTags(r.repo);
  } catch (err) {
    throw pullError(err, r);
  }
  const display = familiar({ domain: r.ref.domain, path: r.ref.path });
  if (tags.length === 0) throw new NotFound(`repository ${display} has no tags`);
  return {
    display,
    run: async (sink, signal) => {
      let last = '';
      for (const tag of tags) {
        const plan = await preparePull(deps, { ...params, tag, allTags: false });
        last = await plan.run(sink, signal);
      }
      return last;
    },
  };
}

interface PullState {
  session: RegistrySession;
  r: RemoteRef;
  topDigest: string;
  manifestBytes: Buffer;
  manifestDigest: string;
  manifest: AnyManifest & { config: Descriptor; layers: Descriptor[] };
  platform: Platform;
  display: string;
}

async function runPull(deps: ImageServiceDeps, s: PullState, sink: ProgressSink, cancel?: AbortSignal): Promise<string> {
  const { session, r, manifest } = s;
  const { content, snapshots, images } = deps;
  sink(status(r.target, `Pulling from ${r.repo}`));

  // The config is small: fetch it first (it names the diff IDs), verified against its digest.
  const configDigest = manifest.config.digest;
  if (!(await content.has(configDigest))) {
    const { body } = await session.getBlob(r.repo, configDigest);
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    await content.writeBytes(Buffer.concat(chunks), { expected: configDigest, mediaType: manifest.config.mediaType });
  }
  const config = JSON.parse((await content.readBytes(configDigest)).toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) throw new InvalidParameter(`image ${s.display}: ${manifest.layers.length} layers but ${diffIds.length} diff IDs in its config`);
  if (config.os && config.os !== s.platform.os) log.warn('pulled image is for another OS', { image: s.display, os: config.os });

  const existing = images.get(configDigest);
  const layers = manifest.layers;
  const ids = layers.map((l) => shortId(l.digest));
  const chains = diffIds.map((_, i) => chainId(diffIds.slice(0, i + 1)));
  const present = await Promise.all(layers.map(async (l, i) => (await content.has(l.digest)) && !!(await snapshots.stat(chains[i]))));
  for (let i = 0; i < layers.length; i++) sink(status(ids[i], present[i] ? 'Already exists' : 'Pulling fs layer'));

  const abort = new AbortController();
  const onCancel = (): void => abort.abort();
  cancel?.addEventListener('abort', onCancel);
  const pending = layers.map((layer, index) => ({ layer, index })).filter((d) => !present[d.index]);
  for (let i = CONCURRENT_DOWNLOADS; i < pending.length; i++) sink(status(ids[pending[i].index], 'Waiting'));
  try {
    if (snapshots.layout === 'copy') await downloadThenUnpack(deps, s, { layers, ids, diffIds, chains, present, pending }, sink, abort.signal, cancel);
    else await streamLayers(deps, s, { layers, ids, diffIds, chains, present, pending }, sink, abort);
  } finally {
    cancel?.removeEventListener('abort', onCancel);
  }
  if (cancel?.aborted) throw new Unavailable('pull cancelled: the client went away');

  failpoint('pull-before-record');
  await content.writeBytes(s.manifestBytes, { expected: s.manifestDigest, mediaType: manifest.mediaType ?? '' });
  let size = 0;
  for (const c of chains) size += (await snapshots.stat(c))?.size ?? 0;
  const name = nameOf(r.ref);
  const refs = r.ref.tag !== undefined ? [formatReference(r.ref), `${name}@${s.topDigest}`] : [`${name}@${s.topDigest}`];
  const before = r.ref.tag !== undefined ? images.byRef(formatReference(r.ref))?.id : undefined;
  images.put(
    {
      id: configDigest,
      config,
      manifestDigest: s.manifestDigest,
      chainId: chains.length > 0 ? chains[chains.length - 1] : '',
      size,
      parent: '',
      created: config.created ? Date.parse(config.created) || Date.now() : Date.now(),
    },
    refs,
  );
  deps.events.publish('image', 'pull', s.display, { name: s.display });
  sink(status(undefined, `Digest: ${s.topDigest}`));
  const upToDate = existing !== undefined && (r.ref.tag === undefined || before === configDigest);
  sink(status(undefined, `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${s.display}`));
  return configDigest;
}

interface LayerPlan {
  layers: Descriptor[];
  ids: string[];
  diffIds: string[];
  chains: string[];
  present: boolean[];
  pending: Array<{ layer: Descriptor; index: number }>;
}

/**
 * Layers that are independent directories (overlay): up to 3 at a time, each downloaded once and
 * unpacked while it downloads; committed bottom-up as they finish.
 */
async function streamLayers(deps: ImageServiceDeps, s: PullState, p: LayerPlan, sink: ProgressSink, abort: AbortController): Promise<void> {
  const committed = p.layers.map((_, i) => (p.present[i] ? { promise: Promise.resolve(), resolve: (): void => undefined, reject: (_e: unknown): void => undefined } : deferred()));
  const ctx: LayerContext = { session: s.session, repo: s.r.repo, sink, signal: abort.signal };
  // A slot is held while a layer's bytes come in; making it durable and committing it is not.
  const slots = new Slots(CONCURRENT_DOWNLOADS);
  const results = await Promise.allSettled(
    p.pending.map(async ({ layer, index: i }) => {
      await slots.acquire();
      let held = true;
      const release = (): void => {
        if (held) slots.release();
        held = false;
      };
      try {
        if (abort.signal.aborted) throw new Unavailable('pull aborted');
        await fetchAndUnpack(
          deps,
          ctx,
          {
            layer,
            id: p.ids[i],
            diffId: p.diffIds[i],
            chain: p.chains[i],
            parentChain: i > 0 ? p.chains[i - 1] : undefined,
            below: i > 0 ? committed[i - 1].promise : Promise.resolve(),
          },
          release,
        );
        committed[i].resolve();
      } catch (err) {
        committed[i].reject(err);
        abort.abort(); // the other layers stop too (their ingests and snapshots are removed)
        throw err;
      } finally {
        release();
      }
    }),
  );
  // the first failure in layer order is the one to report (later ones mostly follow from it)
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** A counting semaphore, granted in request order. */
class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }
  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Layers that build on the tree below them (vfs): downloads run ahead (3 at a time) into the
 * content store; unpacking follows in layer order from the stored blobs.
 */
async function downloadThenUnpack(deps: ImageServiceDeps, s: PullState, p: LayerPlan, sink: ProgressSink, signal: AbortSignal, cancel: AbortSignal | undefined): Promise<void> {
  const { content, snapshots } = deps;
  const { layers, ids, diffIds, chains, present, pending } = p;
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  signal.addEventListener('abort', onAbort);
  const downloaded = new Set<string>();
  const done = layers.map((_, i) => (present[i] ? { promise: Promise.resolve(), resolve: (): void => undefined, reject: (_e: unknown): void => undefined } : deferred()));

  const downloading = mapLimit(pending, CONCURRENT_DOWNLOADS, async (d) => {
    try {
      if (!(await content.has(d.layer.digest))) {
        await download(deps, s, d.layer, ids[d.index], abort.signal, sink);
        downloaded.add(d.layer.digest);
      }
      else sink(status(ids[d.index], 'Download complete'));
      done[d.index].resolve();
    } catch (err) {
      done[d.index].reject(err);
      abort.abort();
      throw err;
    }
  });
  downloading.catch(() => undefined);

  try {
    for (let i = 0; i < layers.length; i++) {
      await done[i].promise;
      if (cancel?.aborted) throw new Unavailable('pull cancelled: the client went away');
      if (present[i]) continue;
      const layer = layers[i];
      const counter = new ProgressCounter(sink, ids[i], 'Extracting', layer.size);
      try {
        if (await snapshots.stat(chains[i])) {
          // unpacked before (from another blob of the same content): still prove this blob is that layer
          await pipeline(decompressStream(content.readStream(layer.digest)), verifyDigest(diffIds[i], `layer ${ids[i]}`), new Writable({ write: (_c, _e, cb) => cb() }));
        } else {
          await unpackLayer({
            snapshotter: snapshots,
            parentDiffIds: diffIds.slice(0, i),
            diffId: diffIds[i],
            open: () => {
              const raw = content.readStream(layer.digest).pipe(counting((n) => counter.add(n)));
              return decompressStream(raw).pipe(verifyDigest(diffIds[i], `layer ${ids[i]}`));
            },
            durable: true,
          });
        }
      } catch (err) {
        // a blob that is not the layer its config names is useless: do not keep it
        if (isKind(err, 'InvalidParameter') && downloaded.has(layer.digest)) await content.delete(layer.digest).catch(() => undefined);
        throw err;
      }
      sink(status(ids[i], 'Pull complete'));
    }
    await downloading;
  } catch (err) {
    abort.abort();
    // let every download finish failing (their ingest files are removed) before reporting
    await downloading.catch(() => undefined);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Download one layer into the content store, resuming with Range after a broken connection. */
async function download(deps: ImageServiceDeps, s: PullState, layer: Descriptor, id: string, signal: AbortSignal, sink: ProgressSink): Promise<void> {
  const counter = new ProgressCounter(sink, id, 'Downloading', layer.size);
  const w = await deps.content.openWriter({ expected: layer.digest, mediaType: layer.mediaType, size: layer.size });
  try {
    for await (const chunk of blobBytes(s.session, s.r.repo, layer, signal, (n) => counter.set(n))) {
      const wait = w.write(chunk);
      if (wait) await wait;
    }
    await w.commit();
  } finally {
    await w.abort();
  }
  sink(status(id, 'Verifying Checksum'));
  sink(status(id, 'Download complete'));
}
