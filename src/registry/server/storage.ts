// The registry's own content store. Layout (one directory, like distribution's filesystem driver):
//   blobs/sha256/<hex>                                   every blob once, shared by all repositories
//   uploads/<uuid>/{data,repo}                           uploads in progress
//   repositories/<name>/_layers/sha256/<hex>             "this repository has this blob"
//   repositories/<name>/_manifests/revisions/sha256/<hex>  manifest link: {"mediaType":…}
//   repositories/<name>/_manifests/tags/<tag>            the digest a tag points to
//   repositories/<name>/_referrers/<subject hex>/<hex>   referrer descriptors (OCI 1.1)
// A blob appears under its digest only after its bytes were hashed against that digest, fsynced
// and renamed into place; links are written after the blob they name.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, writeFileAtomic } from '../../lib/atomic.ts';
import type { Descriptor } from '../../types/oci.ts';
import { artifactTypeOf, type AnyManifest } from '../manifest.ts';
import { RegistryError } from './errors.ts';

const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const UUID_RE = /^[0-9a-f-]{36}$/;

export function validName(name: string): boolean {
  return name.length <= 255 && NAME_RE.test(name);
}
export function isTag(ref: string): boolean {
  return TAG_RE.test(ref);
}
export function checkDigest(d: string): void {
  if (!DIGEST_RE.test(d)) throw new RegistryError('DIGEST_INVALID', { digest: d }, { message: `invalid digest: ${d} (only sha256 is supported)` });
}

function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

interface UploadHash {
  hash: Hash;
  size: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** A hashing pass-through: the sha256 and byte count of what flowed through. */
function hasher(state: UploadHash): Transform {
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      state.hash.update(chunk);
      state.size += chunk.length;
      cb(null, chunk);
    },
  });
}

export class RegistryStorage {
  readonly root: string;
  private readonly blobDir: string;
  private readonly uploadDir: string;
  private readonly repoDir: string;
  /** Running hashes of uploads in progress, so a PUT does not re-read what PATCHes wrote. */
  private readonly hashes = new Map<string, UploadHash>();

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.uploadDir = join(root, 'uploads');
    this.repoDir = join(root, 'repositories');
    for (const d of [this.blobDir, this.uploadDir, this.repoDir]) mkdirSync(d, { recursive: true });
  }

  blobPath(digest: string): string {
    return join(this.blobDir, hexOf(digest));
  }

  private repoPath(name: string, ...rest: string[]): string {
    return join(this.repoDir, name, ...rest);
  }

  private layerLink(name: string, digest: string): string {
    return this.repoPath(name, '_layers', 'sha256', hexOf(digest));
  }

  private revisionLink(name: string, digest: string): string {
    return this.repoPath(name, '_manifests', 'revisions', 'sha256', hexOf(digest));
  }

  private tagPath(name: string, tag: string): string {
    return this.repoPath(name, '_manifests', 'tags', tag);
  }

  async repositoryExists(name: string): Promise<boolean> {
    return exists(this.repoPath(name));
  }

  /** Size of a stored blob, or undefined. */
  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  /** Size of a blob if `name` may serve it (uploaded, mounted, or a manifest of it). */
  async repoBlobSize(name: string, digest: string): Promise<number | undefined> {
    if (!(await exists(this.layerLink(name, digest))) && !(await exists(this.revisionLink(name, digest)))) return undefined;
    return this.blobSize(digest);
  }

  async linkBlob(name: string, digest: string): Promise<void> {
    const link = this.layerLink(name, digest);
    await mkdir(join(link, '..'), { recursive: true });
    await writeFile(link, '');
  }

  /** Forget a blob in one repository (the bytes go at the next gc). Returns false if it was not linked. */
  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    const link = this.layerLink(name, digest);
    if (!(await exists(link))) return false;
    await rm(link, { force: true });
    return true;
  }

  openBlob(digest: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  // ---- uploads ----

  async startUpload(name: string): Promise<string> {
    const id = randomUUID();
    const dir = join(this.uploadDir, id);
    await mkdir(dir);
    await writeFile(join(dir, 'data'), '');
    await writeFile(join(dir, 'repo'), name);
    this.hashes.set(id, { hash: createHash('sha256'), size: 0 });
    return id;
  }

  /** Bytes received so far; throws BLOB_UPLOAD_UNKNOWN for an unknown session (or another repository's). */
  async uploadSize(name: string, id: string): Promise<number> {
    if (!UUID_RE.test(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid: id });
    try {
      const repo = await readFile(join(this.uploadDir, id, 'repo'), 'utf8');
      if (repo !== name) throw new Error('other repository');
      return (await stat(join(this.uploadDir, id, 'data'))).size;
    } catch {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid: id });
    }
  }

  /** The running hash of an upload, rebuilt from its data file if this process did not see every byte. */
  private async uploadHash(id: string, size: number): Promise<UploadHash> {
    const cached = this.hashes.get(id);
    if (cached && cached.size === size) return cached;
    const state: UploadHash = { hash: createHash('sha256'), size: 0 };
    await pipeline(createReadStream(join(this.uploadDir, id, 'data')), hasher(state), async function* (src) {
      for await (const _ of src) void _;
    });
    this.hashes.set(id, state);
    return state;
  }

  /**
   * Append a chunk. `start` (from Content-Range) must equal the bytes received so far. On a failed
   * write the data file is cut back to where it was, so a retry of the chunk is clean.
   */
  async appendUpload(name: string, id: string, body: Readable, start?: number): Promise<number> {
    const size = await this.uploadSize(name, id);
    if (start !== undefined && start !== size) throw new RegistryError('RANGE_INVALID', { expected: size, got: start }, { message: `content range starts at ${start}, upload is at ${size}` });
    const state = await this.uploadHash(id, size);
    const working: UploadHash = { hash: state.hash.copy(), size: state.size };
    const path = join(this.uploadDir, id, 'data');
    try {
      await pipeline(body, hasher(working), createWriteStream(path, { flags: 'a', highWaterMark: 1 << 20 }));
    } catch (err) {
      const fh = await open(path, 'r+');
      await fh.truncate(size).finally(() => fh.close());
      throw err;
    }
    this.hashes.set(id, working);
    return working.size;
  }

  /** Finish an upload: verify the digest, then move the data into place (or drop it if the blob exists). */
  async commitUpload(name: string, id: string, digest: string): Promise<number> {
    checkDigest(digest);
    const size = await this.uploadSize(name, id);
    const state = await this.uploadHash(id, size);
    const actual = 'sha256:' + state.hash.copy().digest('hex');
    if (actual !== digest) {
      await this.cancelUpload(name, id);
      throw new RegistryError('DIGEST_INVALID', { expected: digest, actual }, { message: `provided digest ${digest} did not match uploaded content ${actual}` });
    }
    const data = join(this.uploadDir, id, 'data');
    if ((await this.blobSize(digest)) === undefined) {
      const fh = await open(data, 'r');
      await fh.sync().finally(() => fh.close());
      await rename(data, this.blobPath(digest));
      await fsyncDir(this.blobDir);
    }
    await this.linkBlob(name, digest);
    await this.cancelUpload(name, id);
    return size;
  }

  async cancelUpload(_name: string, id: string): Promise<void> {
    this.hashes.delete(id);
    await rm(join(this.uploadDir, id), { recursive: true, force: true });
  }

  /** Upload sessions and their age, for gc. */
  async listUploads(): Promise<Array<{ id: string; mtimeMs: number }>> {
    const out: Array<{ id: string; mtimeMs: number }> = [];
    for (const id of await listDir(this.uploadDir)) {
      try {
        out.push({ id, mtimeMs: (await stat(join(this.uploadDir, id, 'data'))).mtimeMs });
      } catch {
        out.push({ id, mtimeMs: 0 });
      }
    }
    return out;
  }

  async removeUpload(id: string): Promise<void> {
    await rm(join(this.uploadDir, id), { recursive: true, force: true });
  }

  // ---- manifests and tags ----

  /** Store a verified manifest: blob, revision link, tag and referrer entries. */
  async putManifest(name: string, bytes: Buffer, digest: string, mediaType: string, manifest: AnyManifest, tag?: string): Promise<void> {
    if ((await this.blobSize(digest)) === undefined) await writeFileAtomic(this.blobPath(digest), bytes);
    await writeFileAtomic(this.revisionLink(name, digest), JSON.stringify({ mediaType }));
    if (manifest.subject?.digest && DIGEST_RE.test(manifest.subject.digest)) {
      const desc: Descriptor & { artifactType?: string } = { mediaType, digest, size: bytes.length };
      const at = artifactTypeOf(manifest);
      if (at) desc.artifactType = at;
      if (manifest.annotations) desc.annotations = manifest.annotations;
      await writeFileAtomic(this.repoPath(name, '_referrers', hexOf(manifest.subject.digest), hexOf(digest)), JSON.stringify(desc));
    }
    if (tag !== undefined) await writeFileAtomic(this.tagPath(name, tag), digest);
  }

  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    try {
      const d = (await readFile(this.tagPath(name, tag), 'utf8')).trim();
      return DIGEST_RE.test(d) ? d : undefined;
    } catch {
      return undefined;
    }
  }

  /** A manifest of `name` by digest, or undefined. */
  async getManifest(name: string, digest: string): Promise<StoredManifest | undefined> {
    let mediaType: string;
    try {
      mediaType = (JSON.parse(await readFile(this.revisionLink(name, digest), 'utf8')) as { mediaType: string }).mediaType;
    } catch {
      return undefined;
    }
    try {
      return { digest, mediaType, bytes: await readFile(this.blobPath(digest)) };
    } catch {
      return undefined;
    }
  }

  async hasManifest(name: string, digest: string): Promise<boolean> {
    return exists(this.revisionLink(name, digest));
  }

  /** Delete a manifest revision, the tags pointing to it and its referrer entry. */
  async deleteManifest(name: string, digest: string): Promise<boolean> {
    const stored = await this.getManifest(name, digest);
    if (!stored) return false;
    for (const tag of await this.tags(name)) {
      if ((await this.resolveTag(name, tag)) === digest) await rm(this.tagPath(name, tag), { force: true });
    }
    try {
      const subject = (JSON.parse(stored.bytes.toString('utf8')) as AnyManifest).subject?.digest;
      if (subject && DIGEST_RE.test(subject)) await rm(this.repoPath(name, '_referrers', hexOf(subject), hexOf(digest)), { force: true });
    } catch {
      /* not JSON: no referrer entry was written */
    }
    await rm(this.revisionLink(name, digest), { force: true });
    return true;
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    if ((await this.resolveTag(name, tag)) === undefined) return false;
    await rm(this.tagPath(name, tag), { force: true });
    return true;
  }

  /** Tags of a repository in lexical order. */
  async tags(name: string): Promise<string[]> {
    return (await listDir(this.repoPath(name, '_manifests', 'tags'))).filter((t) => TAG_RE.test(t)).sort();
  }

  async revisions(name: string): Promise<string[]> {
    return (await listDir(this.repoPath(name, '_manifests', 'revisions', 'sha256'))).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => 'sha256:' + h);
  }

  async layers(name: string): Promise<string[]> {
    return (await listDir(this.repoPath(name, '_layers', 'sha256'))).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => 'sha256:' + h);
  }

  /** Referrer descriptors of `digest` in `name`. */
  async referrers(name: string, digest: string): Promise<Array<Descriptor & { artifactType?: string }>> {
    const dir = this.repoPath(name, '_referrers', hexOf(digest));
    const out: Array<Descriptor & { artifactType?: string }> = [];
    for (const f of (await listDir(dir)).sort()) {
      try {
        const desc = JSON.parse(await readFile(join(dir, f), 'utf8')) as Descriptor & { artifactType?: string };
        if (await this.hasManifest(name, desc.digest)) out.push(desc);
      } catch {
        /* half-written entry of a crashed put: skip */
      }
    }
    return out;
  }

  /** All repository names (those with a `_manifests` or `_layers` directory), sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await listDir(join(this.repoDir, rel));
      if (entries.includes('_manifests') || entries.includes('_layers')) out.push(rel);
      for (const e of entries) {
        if (e.startsWith('_')) continue;
        const child = rel ? `${rel}/${e}` : e;
        if ((await stat(join(this.repoDir, child))).isDirectory()) await walk(child);
      }
    };
    await walk('');
    return out.filter((r) => r !== '').sort();
  }

  /** Digests of every stored blob (for gc). */
  async allBlobs(): Promise<string[]> {
    return (await listDir(this.blobDir)).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => 'sha256:' + h);
  }

  async removeBlob(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }
}
