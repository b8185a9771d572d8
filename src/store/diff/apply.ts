import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidParameter } from '../../lib/errors.ts';
import { entryComponents, joinInside, resolveInScope, resolveParentInScope } from '../../lib/safepath.ts';
import { run } from '../../os/exec.ts';
import { BatchedFileWriter } from '../../lib/batchwriter.ts';
import { ThreadedSha256 } from '../../lib/hashthread.ts';
import { detectCompression, type Compression } from './compression.ts';


const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';

/** tar-stream's header plus the PAX records it keeps but does not declare. */
type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };
/** A tar entry's body (a streamx Readable, which is async iterable). */
type EntryBody = AsyncIterable<Buffer>;

export interface ApplyOptions {
  /**
   * 'overlay' (default): whiteouts become overlay whiteouts and opaque xattrs, for an upper dir.
   * 'delete': whiteouts delete what they name, for a directory that holds the whole tree (vfs).
   */
  whiteouts?: 'overlay' | 'delete';
}

interface ApplyState {
  root: string;
  whiteouts: 'overlay' | 'delete';
  /** Paths this layer wrote ('delete' mode: an opaque marker keeps them, drops the rest). */
  written: Set<string>;
  size: number;
  /** Directory times are set last: creating children would bump them again. */
  dirTimes: Array<{ path: string; mtime: Date }>;
  /** Write large files back early (LayerSinkOptions.durable). */
  durable: boolean;
  /**
   * Directories this layer created or checked that are reached from the root without a symlink
   * (absolute paths); an entry that replaces or removes one drops it and everything below.
   */
  realDirs: Set<string>;
}

export interface LayerSinkOptions extends ApplyOptions {
  /**
   * Compute the sha256 of the uncompressed tar (the diff ID): 'always' (the default), only when
   * the input is compressed ('compressed': the caller hashes the input anyway, and for a plain tar
   * that is the same digest), or 'never'.
   */
  diffId?: 'always' | 'compressed' | 'never';
  /**
   * The caller will make the files durable (syncfs) before using them: large files are written
   * back as they are written (a background fdatasync every 8 MiB), so that sync has less to wait for.
   */
  durable?: boolean;
  /** The input is large (a big download): hash on the worker thread (lib/hashthread.ts). */
  hashOffThread?: boolean;
}

export interface LayerSinkResult {
  compression: Compression;
  /** `sha256:<hex>` of the uncompressed tar, when it was computed. */
  diffId?: string;
  /** Bytes of regular file content written (0 when only verifying). */
  size: number;
}

/**
 * A layer fed chunk by chunk (a download on its way to the content store): plain, gzip or zstd
 * (recognised by its first bytes), unpacked into `dir` as it arrives, or, without `dir`, only
 * decompressed and hashed.
 */
export interface LayerSink {
  /** Feed bytes (kept by reference); a returned promise means "wait before writing more". */
  write(chunk: Buffer): Promise<void> | undefined;
  /** All bytes fed: resolves once every entry is applied (directory times last). */
  end(): Promise<LayerSinkResult>;
  /**
   * Give up (the source failed): stops reading and waits until no file operation is in flight,
   * so the caller can remove `dir`. `end` rejects afterwards.
   */
  destroy(err: Error): Promise<void>;
}

const NOOP = (): void => undefined;

function mainThreadSha256(): { update(b: Uint8Array): void; digest(): Promise<string>; dispose(): void } {
  const h = createHash('sha256');
  return { update: (b) => h.update(b), digest: async () => 'sha256:' + h.digest('hex'), dispose: NOOP };
}

export function layerSink(dir: string | undefined, opts: LayerSinkOptions = {}): LayerSink {
  return new Sink(dir, opts);
}

class Sink implements LayerSink {
  private head: Buffer[] = [];
  private headLen = 0;
  private kind: Compression | undefined;
  private hash: { update(b: Uint8Array): void; digest(): Promise<string>; dispose(): void; backlog?(): Promise<void> | undefined } | undefined;
  /** Compressed input goes through a decompressor; plain input straight into the tar reader. */
  private input: PassThrough | undefined;
  private flow: Promise<void> | undefined;
  private readonly extract: tar.Extract | undefined;
  private readonly applying: Promise<void>;
  private readonly state: ApplyState | undefined;
  private failure: { err: Error } | undefined;
  private readonly failed: Promise<never>;
  private fail!: (err: Error) => void;

  private readonly opts: LayerSinkOptions;

  constructor(dir: string | undefined, opts: LayerSinkOptions) {
    this.opts = opts;
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (err) => {
        if (this.failure) return;
        this.failure = { err };
        reject(err);
      };
    });
    this.failed.catch(NOOP);
    if (dir === undefined) {
      this.applying = Promise.resolve();
      return;
    }
    const extract = tar.extract();
    this.extract = extract;
    const state: ApplyState = { root: dir, whiteouts: opts.whiteouts ?? 'overlay', written: new Set(), size: 0, dirTimes: [], durable: opts.durable === true, realDirs: new Set() };
    this.state = state;
    this.applying = (async () => {
      try {
        for await (const entry of extract) {
          // streamx's Readable iterates Buffers; its typings say `any`.
          await applyEntry(state, entry.header as Header, entry as unknown as EntryBody);
        }
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.fail(e);
        extract.destroy(e);
        throw e;
      }
      if (this.failure) throw this.failure.err;
      // Deepest first, so setting a parent's time is not undone by touching a child.
      for (const { path, mtime } of state.dirTimes.reverse()) await lutimes(path, mtime, mtime);
    })();
    this.applying.catch(NOOP);
  }

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.kind === undefined) {
      // Gather at least 4 bytes to recognise the compression (a body may start with less).
      this.head.push(chunk);
      this.headLen += chunk.length;
      if (this.headLen < 4) return undefined;
      return this.start();
    }
    return this.feed(chunk);
  }

  private start(): Promise<void> | undefined {
    const first = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    this.head = [];
    const kind = detectCompression(first);
    this.kind = kind;
    const hashing = this.opts.diffId ?? 'always';
    const newHash = (): NonNullable<Sink['hash']> => (this.opts.hashOffThread ? new ThreadedSha256() : mainThreadSha256());
    if (kind === 'none') {
      if (hashing === 'always') this.hash = newHash();
    } else {
      const hash = hashing === 'never' ? undefined : newHash();
      this.hash = hash;
      this.input = new PassThrough({ highWaterMark: 1 << 20 });
      const out = this.extract ?? new Writable({ highWaterMark: 1 << 20, write: (_c, _e, cb) => cb() });
      const decompress = kind === 'gzip' ? createGunzip() : createZstdDecompress();
      if (hash) {
        const hasher = new Transform({
          highWaterMark: 1 << 20,
          transform(c: Buffer, _enc, cb) {
            hash.update(c);
            // The off-thread hash holds copies until the worker catches up: wait when it is behind.
            const behind = hash.backlog?.();
            if (behind) void behind.then(() => cb(null, c));
            else cb(null, c);
          },
        });
        this.flow = pipeline(this.input, decompress, hasher, out);
      } else {
        this.flow = pipeline(this.input, decompress, out);
      }
      this.flow.catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
    }
    return first.length > 0 ? this.feed(first) : undefined;
  }

  private feed(buf: Buffer): Promise<void> | undefined {
    if (this.input) return this.input.write(buf) ? undefined : this.drained(this.input);
    this.hash?.update(buf);
    if (this.extract && !this.extract.write(buf)) return this.drained(this.extract);
    return undefined;
  }

  private drained(s: { once(ev: 'drain', fn: () => void): unknown }): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => s.once('drain', resolve)), this.failed]);
  }

  async end(): Promise<LayerSinkResult> {
    try {
      if (this.failure) throw this.failure.err;
      if (this.kind === undefined) {
        const wait = this.start();
        if (wait) await wait;
      }
      if (this.input) {
        this.input.end();
        await Promise.race([this.flow, this.failed]);
      } else {
        (this.extract as Writable | undefined)?.end();
      }
      await Promise.race([this.applying, this.failed]);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      await this.destroy(e);
      throw this.firstError() ?? e;
    }
    return { compression: this.kind ?? 'none', diffId: await this.hash?.digest(), size: this.state?.size ?? 0 };
  }

  private firstError(): Error | undefined {
    return this.failure?.err;
  }

  async destroy(err: Error): Promise<void> {
    this.fail(err);
    this.hash?.dispose();
    this.input?.destroy(err);
    this.extract?.destroy(err);
    await Promise.allSettled([this.flow, this.applying]);
  }
}

/**
 * Unpack a layer tar (plain, gzip or zstd) into `dir`, the way overlay2 stores a layer: Docker/OCI
 * whiteouts become overlay whiteouts (char device 0:0) and opaque markers become the
 * `trusted.overlay.opaque=y` xattr. Every path is resolved inside `dir` with symlinks followed in
 * scope, so neither `..` entries nor hostile symlinks can write outside it. Returns the number of
 * bytes of regular file content written.
 */
export async function applyLayer(src: Readable, dir: string, opts: ApplyOptions = {}): Promise<{ size: number }> {
  const sink = layerSink(dir, { ...opts, diffId: 'never' });
  try {
    for await (const chunk of src as AsyncIterable<Buffer | string>) {
      const wait = sink.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (wait) await wait;
    }
  } catch (err) {
    src.destroy();
    await sink.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  const { size } = await sink.end();
  return { size };
}

async function drain(entry: EntryBody): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function applyEntry(state: ApplyState, h: Header, entry: EntryBody): Promise<void> {
  const parts = entryComponents(h.name);
  if (parts.length === 0) {
    // The layer root ("./"): keep our directory, take nothing from the entry.
    await drain(entry);
    return;
  }
  const base = parts[parts.length - 1];
  if (base.startsWith(WHITEOUT_PREFIX)) {
    await drain(entry);
    await applyWhiteout(state, parts);
    return;
  }

  // The parent is resolved in scope (symlinks followed as if the root were /) and created, unless
  // this layer already made or checked it as a real directory reached without a symlink: then
  // the lexical path is the resolved one, and an lstat per component plus a mkdir are saved.
  let path: string;
  let direct: boolean;
  const parentKey = joinInside(state.root, parts.slice(0, -1));
  if (state.realDirs.has(parentKey)) {
    path = joinInside(state.root, parts);
    direct = true;
  } else {
    const resolved = await resolveParentInScope(state.root, parts);
    path = joinInside(state.root, resolved);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    direct = resolved.length === parts.length && resolved.every((p, i) => p === parts[i]);
    // No symlink on the way, and mkdir succeeded: every prefix is a real directory now.
    if (direct) for (let i = 0; i < parts.length; i++) state.realDirs.add(joinInside(state.root, parts.slice(0, i)));
  }
  if (state.whiteouts === 'delete') state.written.add(path);
  const existing = await lstatOrUndefined(path);
  // A tar entry replaces what was there, except that a directory over a directory merges.
  if (existing && !(existing.isDirectory() && h.type === 'directory')) {
    await rm(path, { recursive: true, force: true });
    forgetDirs(state, path);
  }

  const mode = (h.mode ?? 0o644) & 0o7777;
  switch (h.type) {
    case 'directory':
      if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
      if (direct) state.realDirs.add(path);
      await drain(entry);
      break;
    case 'file':
    case 'contiguous-file': {
      // O_NOFOLLOW|O_EXCL: we just removed whatever was there, so anything else is an attack.
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        // Batched writes (one writev per ~1 MiB) that overlap with reading the next chunks.
        const out = new BatchedFileWriter(fh, state.durable ? { syncEveryBytes: 8 << 20 } : {});
        for await (const chunk of entry) {
          const wait = out.write(chunk);
          if (wait) await wait;
        }
        await out.flush();
        state.size += out.written;
        // Metadata through the open handle: no path lookups (chmod after chown, which clears setuid/setgid).
        await chownHandle(fh, h.uid ?? 0, h.gid ?? 0);
        await fh.chmod(mode);
        const mtime = h.mtime ?? new Date(0);
        await fh.utimes(mtime, mtime);
      } finally {
        await fh.close();
      }
      if (h.pax) await setXattrs(path, h.pax);
      return;
    }
    case 'symlink':
      await drain(entry);
      await symlink(h.linkname ?? '', path);
      break;
    case 'link': {
      await drain(entry);
      const target = joinInside(state.root, await resolveParentInScope(state.root, entryComponents(h.linkname ?? '')));
      try {
        await link(target, path);
      } catch (err) {
        throw new InvalidParameter(`invalid hardlink ${h.name} -> ${h.linkname}: ${(err as Error).message}`, { cause: err });
      }
      break;
    }
    case 'character-device':
    case 'block-device':
      await drain(entry);
      await run('mknod', ['-m', mode.toString(8), path, h.type === 'character-device' ? 'c' : 'b', String(h.devmajor ?? 0), String(h.devminor ?? 0)]);
      break;
    case 'fifo':
      await drain(entry);
      await run('mkfifo', ['-m', mode.toString(8), path]);
      break;
    default:
      // Unknown entry types (e.g. GNU sparse) are skipped as dockerd does for types it ignores.
      await drain(entry);
      return;
  }

  await setMetadata(state, path, h, mode);
}

async function chownHandle(fh: FileHandle, uid: number, gid: number): Promise<void> {
  try {
    await fh.chown(uid, gid);
  } catch (err) {
    // Unprivileged unpacking (tests, rootless): keep our own ownership.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

async function setMetadata(state: ApplyState, path: string, h: Header, mode: number): Promise<void> {
  const isSymlink = h.type === 'symlink';
  if (h.type !== 'link') {
    try {
      await lchown(path, h.uid ?? 0, h.gid ?? 0);
    } catch (err) {
      // Unprivileged unpacking (tests, rootless): keep our own ownership.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
    // chmod after chown: chown clears setuid/setgid bits.
    if (!isSymlink) await chmod(path, mode);
  }
  if (h.pax) await setXattrs(path, h.pax);
  const mtime = h.mtime ?? new Date(0);
  if (h.type === 'directory') state.dirTimes.push({ path, mtime });
  else if (h.type !== 'link') await lutimes(path, mtime, mtime);
}

/** PAX `SCHILY.xattr.*` records, best effort: a filesystem without xattr support must not fail the pull. */
async function setXattrs(path: string, pax: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith('SCHILY.xattr.')) continue;
    const name = key.slice('SCHILY.xattr.'.length);
    try {
      await run('setfattr', ['-h', '-n', name, '-v', '0x' + Buffer.from(value, 'utf8').toString('hex'), path]);
    } catch {
      // tar-stream decodes PAX values as UTF-8, so binary values may be damaged anyway.
    }
  }
}

/** `path` (and everything below it) was removed or replaced: it is no longer a known directory. */
function forgetDirs(state: ApplyState, path: string): void {
  state.realDirs.delete(path);
  const prefix = path + '/';
  for (const d of state.realDirs) if (d.startsWith(prefix)) state.realDirs.delete(d);
}

async function applyWhiteout(state: ApplyState, parts: string[]): Promise<void> {
  const root = state.root;
  const base = parts[parts.length - 1];
  const parentPath = joinInside(root, await resolveInScope(root, parts.slice(0, -1)));
  await mkdir(parentPath, { recursive: true, mode: 0o755 });
  if (base === WHITEOUT_OPAQUE) {
    if (state.whiteouts === 'delete') {
      // The directory hides everything below it from lower layers: keep only this layer's entries.
      for (const name of await readdir(parentPath)) {
        const p = join(parentPath, name);
        if (state.written.has(p)) continue;
        await rm(p, { recursive: true, force: true });
        forgetDirs(state, p);
      }
      return;
    }
    await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', parentPath]);
    return;
  }
  if (base.startsWith(WHITEOUT_META_PREFIX)) return; // other AUFS metadata (.wh..wh.plnk etc.)
  const target = join(parentPath, base.slice(WHITEOUT_PREFIX.length));
  if (target === parentPath || base.slice(WHITEOUT_PREFIX.length).includes('/')) throw new InvalidParameter(`invalid whiteout ${parts.join('/')}`);
  await rm(target, { recursive: true, force: true });
  forgetDirs(state, target);
  if (state.whiteouts === 'delete') return;
  await run('mknod', ['-m', '0', target, 'c', '0', '0']);
}
