// `POST /images/load` (docker load): docker-archives (manifest.json, legacy 20.10 layout or
// Docker 25+) and plain OCI image layouts (index.json). Blobs stream into the content store
// verified against their names; layers are unpacked verified against the config's diff IDs; the
// image rows come last. On failure every blob this load added and no image uses is removed.
import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chainId, digestHex, shortId } from '../../lib/digest.ts';
import { InvalidParameter, errorMessage } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { hostPlatform, isIndexType, parseManifest, platformMatches, type AnyManifest } from '../../registry/manifest.ts';
import { decompressStream, detectCompression } from '../../store/diff/compression.ts';
import { familiar, formatReference, parseFullyQualified, parseNormalizedNamed, withDefaultTag } from '../../store/images/reference.ts';
import { unpackLayer } from '../../store/images/unpack.ts';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageManifest } from '../../types/oci.ts';
import type { ImageServiceDeps } from './deps.ts';
import type { ProgressSink } from './progress.ts';
import { ProgressCounter } from './progress.ts';

const SMALL_FILE = 4 * 1024 * 1024;
const BLOB_PATH_RE = /^blobs\/sha256\/([a-f0-9]{64})$/;

interface Archive {
  /** Small non-blob files (manifest.json, index.json, legacy <id>.json, repositories). */
  files: Map<string, Buffer>;
  /** Archive path → content-store digest, for every file streamed into the store. */
  blobs: Map<string, string>;
  /** Blobs this load added to the content store. */
  added: Set<string>;
}

function cleanName(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '');
}

async function readArchive(deps: ImageServiceDeps, body: Readable, archive: Archive): Promise<void> {
  const tar = (await import('tar-stream')).default;
  const extract = tar.extract();
  body.pipe(extract);
  body.once('error', (err) => extract.destroy(err));
  for await (const entry of extract) {
    const h = entry.header;
    const name = cleanName(h.name);
    const stream = entry as unknown as Readable;
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      entry.resume();
      continue;
    }
    const blob = BLOB_PATH_RE.exec(name);
    if (blob || name.endsWith('/layer.tar') || name.endsWith('.tar') || (h.size ?? 0) > SMALL_FILE) {
      const expected = blob ? `sha256:${blob[1]}` : undefined;
      const existed = expected ? await deps.content.has(expected) : false;
      const { digest } = await deps.content.writeStream(stream, { expected });
      if (!existed) archive.added.add(digest);
      archive.blobs.set(name, digest);
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    archive.files.set(name, Buffer.concat(chunks));
  }
}

/** Bytes of an archive file, wherever it went (memory or content store). */
async function fileBytes(deps: ImageServiceDeps, archive: Archive, path: string): Promise<Buffer> {
  const p = cleanName(path);
  const small = archive.files.get(p);
  if (small) return small;
  const digest = archive.blobs.get(p);
  if (digest) return deps.content.readBytes(digest);
  throw new InvalidParameter(`invalid archive: ${p} is referenced but missing`);
}

/** The content-store digest of an archive file (small files are stored now). */
async function fileDigest(deps: ImageServiceDeps, archive: Archive, path: string, mediaType?: string): Promise<string> {
  const p = cleanName(path);
  const d = archive.blobs.get(p);
  if (d) return d;
  const bytes = archive.files.get(p);
  if (!bytes) throw new InvalidParameter(`invalid archive: ${p} is referenced but missing`);
  const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  const existed = await deps.content.has(digest);
  await deps.content.writeBytes(bytes, { mediaType });
  if (!existed) archive.added.add(digest);
  archive.blobs.set(p, digest);
  return digest;
}

interface LoadPlan {
  configDigest: string;
  layerBlobs: string[];
  /** A stored manifest for the image (the archive's OCI manifest, or one written for it). */
  manifest?: { digest: string; bytes: Buffer };
  refs: string[];
}

function layerMediaType(head: Buffer): string {
  const c = detectCompression(head);
  return c === 'gzip' ? MediaTypes.ociLayerGzip : c === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
}

async function readHead(deps: ImageServiceDeps, digest: string): Promise<Buffer> {
  for await (const c of deps.content.readStream(digest, { start: 0, end: 3 }) as AsyncIterable<Buffer>) return c;
  return Buffer.alloc(0);
}

/** The image manifest an index entry leads to (nested indexes resolved for the host platform). */
async function resolveManifest(deps: ImageServiceDeps, desc: Descriptor): Promise<{ digest: string; bytes: Buffer; manifest: AnyManifest }> {
  let d = desc;
  for (let depth = 0; depth < 4; depth++) {
    const bytes = await deps.content.readBytes(d.digest);
    const m = parseManifest(bytes);
    if (!isIndexType(m.mediaType ?? d.mediaType) && !Array.isArray(m.manifests)) return { digest: d.digest, bytes, manifest: m };
    const want = hostPlatform();
    const next = (m.manifests ?? []).find((c) => platformMatches(c.platform, want)) ?? (m.manifests ?? []).find((c) => !c.platform);
    if (!next) throw new InvalidParameter(`archive has no manifest for ${want.os}/${want.architecture}`);
    d = next;
  }
  throw new InvalidParameter('archive index nests too deeply');
}

function refOfAnnotation(desc: Descriptor): string | undefined {
  const a = desc.annotations ?? {};
  const full = a['io.containerd.image.name'];
  const name = full ?? a['org.opencontainers.image.ref.name'];
  if (!name) return undefined;
  try {
    const r = parseNormalizedNamed(name);
    // a bare ref.name like "latest" or "1.0" is only a tag: no repository to name
    if (!full && !name.includes('/') && !name.includes(':')) return undefined;
    return formatReference(withDefaultTag(r));
  } catch {
    return undefined;
  }
}

async function planImages(deps: ImageServiceDeps, archive: Archive): Promise<LoadPlan[]> {
  const plans: LoadPlan[] = [];
  const manifestJson = archive.files.get('manifest.json');
  const indexJson = archive.files.get('index.json');
  // OCI manifests of the archive by config digest (Docker 25+ archives carry both views).
  const ociByConfig = new Map<string, { digest: string; bytes: Buffer; refs: string[] }>();
  if (indexJson) {
    const index = JSON.parse(indexJson.toString('utf8')) as { manifests?: Descriptor[] };
    for (const desc of index.manifests ?? []) {
      if (!archive.blobs.has(`blobs/sha256/${digestHex(desc.digest)}`) && !(await deps.content.has(desc.digest))) {
        throw new InvalidParameter(`invalid archive: index.json names ${desc.digest}, which is not in blobs/`);
      }
      const resolved = await resolveManifest(deps, desc);
      const cfg = resolved.manifest.config?.digest;
      if (!cfg) continue;
      const entry = ociByConfig.get(cfg) ?? { digest: resolved.digest, bytes: resolved.bytes, refs: [] };
      const ref = refOfAnnotation(desc);
      if (ref && !entry.refs.includes(ref)) entry.refs.push(ref);
      ociByConfig.set(cfg, entry);
    }
  }
  if (manifestJson) {
    const items = JSON.parse(manifestJson.toString('utf8')) as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
    if (!Array.isArray(items)) throw new InvalidParameter('invalid archive: manifest.json is not a list');
    for (const item of items) {
      const configDigest = await fileDigest(deps, archive, item.Config, MediaTypes.ociConfig);
      const layerBlobs: string[] = [];
      for (const l of item.Layers ?? []) layerBlobs.push(await fileDigest(deps, archive, l, MediaTypes.ociLayer));
      const refs = (item.RepoTags ?? []).map((t) => formatReference(withDefaultTag(parseNormalizedNamed(t))));
      const oci = ociByConfig.get(configDigest);
      plans.push({ configDigest, layerBlobs, refs, manifest: oci && sameLayers(oci.bytes, layerBlobs) ? oci : undefined });
    }
    return plans;
  }
  if (indexJson) {
    for (const [configDigest, oci] of ociByConfig) {
      const m = parseManifest(oci.bytes);
      plans.push({ configDigest, layerBlobs: (m.layers ?? []).map((l) => l.digest), refs: oci.refs, manifest: oci });
    }
    return plans;
  }
  throw new InvalidParameter('invalid archive: neither manifest.json nor index.json found');
}

function sameLayers(manifestBytes: Buffer, blobs: string[]): boolean {
  const m = parseManifest(manifestBytes);
  return (m.layers ?? []).length === blobs.length && (m.layers ?? []).every((l, i) => l.digest === blobs[i]);
}

async function createImage(deps: ImageServiceDeps, plan: LoadPlan, sink: ProgressSink, quiet: boolean): Promise<string> {
  const configBytes = await deps.content.readBytes(plan.configDigest);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== plan.layerBlobs.length) throw new InvalidParameter(`invalid archive: image ${shortId(plan.configDigest)} has ${plan.layerBlobs.length} layers but ${diffIds.length} diff IDs`);
  const layerDescs: Descriptor[] = [];
  for (let i = 0; i < diffIds.length; i++) {
    const blob = plan.layerBlobs[i];
    const info = await deps.content.info(blob);
    // docker's "Loading layer [==>  ] 1.2MB/3.4MB" lines (the CLI asks for them on a terminal)
    const counter = quiet ? undefined : new ProgressCounter(sink, shortId(diffIds[i]), 'Loading layer', info?.size ?? 0);
    counter?.set(0);
    // a layer already unpacked is not read again: check the archive's bytes against the diff ID here
    if (blob !== diffIds[i] && (await deps.snapshots.stat(chainId(diffIds.slice(0, i + 1))))) {
      await pipeline(decompressStream(deps.content.readStream(blob)), verifier(diffIds[i]), new Writable({ write: (_c, _e, cb) => cb() }));
    }
    await unpackLayer({
      snapshotter: deps.snapshots,
      parentDiffIds: diffIds.slice(0, i),
      diffId: diffIds[i],
      open: () => {
        const raw = deps.content.readStream(blob);
        const counted = counter
          ? raw.pipe(
              new Transform({
                transform(chunk: Buffer, _enc, cb) {
                  counter.add(chunk.length);
                  cb(null, chunk);
                },
              }),
            )
          : raw;
        return decompressStream(counted).pipe(verifier(diffIds[i]));
      },
    });
    counter?.set(info?.size ?? 0);
    layerDescs.push({ mediaType: layerMediaType(await readHead(deps, blob)), digest: blob, size: info?.size ?? 0 });
  }
  let manifestDigest: string;
  if (plan.manifest) {
    manifestDigest = plan.manifest.digest;
    await deps.content.writeBytes(plan.manifest.bytes, { expected: manifestDigest, mediaType: MediaTypes.ociManifest });
  } else {
    const m: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: plan.configDigest, size: configBytes.length }, layers: layerDescs };
    manifestDigest = await deps.content.writeBytes(Buffer.from(JSON.stringify(m)), { mediaType: MediaTypes.ociManifest });
  }
  const chains = diffIds.map((_, i) => chainId(diffIds.slice(0, i + 1)));
  let size = 0;
  for (const c of chains) size += (await deps.snapshots.stat(c))?.size ?? 0;
  deps.images.put(
    { id: plan.configDigest, config, manifestDigest, chainId: chains.length > 0 ? chains[chains.length - 1] : '', size, parent: '', created: config.created ? Date.parse(config.created) || Date.now() : Date.now() },
    plan.refs,
  );
  return plan.configDigest;
}

function verifier(expected: string): Transform {
  const h = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const actual = 'sha256:' + h.digest('hex');
      cb(actual === expected ? null : new InvalidParameter(`layer does not match its diff ID: expected ${expected}, got ${actual}`));
    },
  });
}

/** Blobs any image record still uses (config, manifest, layers). */
async function usedBlobs(deps: ImageServiceDeps): Promise<Set<string>> {
  const used = new Set<string>();
  for (const img of deps.images.list()) {
    used.add(img.id);
    if (!img.manifestDigest) continue;
    used.add(img.manifestDigest);
    try {
      for (const l of parseManifest(await deps.content.readBytes(img.manifestDigest)).layers ?? []) used.add(l.digest);
    } catch {
      /* unreadable manifest: keep what we know */
    }
  }
  return used;
}

export async function loadImages(deps: ImageServiceDeps, body: Readable, sink: ProgressSink, quiet = false): Promise<string[]> {
  const archive: Archive = { files: new Map(), blobs: new Map(), added: new Set() };
  const loaded: string[] = [];
  try {
    await readArchive(deps, body, archive);
    const plans = await planImages(deps, archive);
    for (const plan of plans) {
      const id = await createImage(deps, plan, sink, quiet);
      deps.events.publish('image', 'load', id, { name: id });
      if (plan.refs.length === 0) {
        sink({ stream: `Loaded image ID: ${id}\n` });
        loaded.push(id);
      }
      for (const r of plan.refs) {
        const name = familiar(parseFullyQualified(r));
        sink({ stream: `Loaded image: ${name}\n` });
        loaded.push(name);
      }
    }
  } catch (err) {
    log.debug('load failed; removing its blobs', { error: errorMessage(err) });
    throw err;
  } finally {
    // blobs this load added that no image uses (a failure, or archive files that are not blobs)
    const used = await usedBlobs(deps);
    for (const d of archive.added) if (!used.has(d)) await deps.content.delete(d).catch(() => undefined);
  }
  return loaded;
}
