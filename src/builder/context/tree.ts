// The build context as it arrives: the request's tar is read once into an in-memory index of its
// entries (type, mode, size, link target, and the sha256 of each file, computed while streaming);
// file contents are kept in a reusable buffer (or a spill file once large), not written out. A
// fully cached build needs nothing else: the Dockerfile, .dockerignore and COPY checksums come
// from the index. The first step that needs real files (a COPY or ADD that misses, ADD's archive
// check, a RUN bind mount of the context) writes the tree out once, .dockerignore already applied.
//
// The index places every entry where unpacking the tar would (lib/safepath's rules: `..`
// refused, symlinks met on the way resolved as if the context were `/`, a later entry replacing
// an earlier one, a hardlink only to a file already there, missing parents made 0755 & ~umask,
// directories at least 0700), so the view gives the names, modes and checksums an unpacked
// directory would. Writing the tree out cannot leave the directory either: every directory on
// the way is one the writer made, and symlinks are only ever leaves.
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, symlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidParameter, NotFound } from '../../lib/errors.ts';
import type { IgnoreMatcher } from '../../lib/dockerignore.ts';
import { entryComponents } from '../../lib/safepath.ts';
import { detectCompression } from '../../store/diff/compression.ts';
import { resolveInView, type ContextSource, type TreeEntry } from '../fs.ts';

/** File contents kept in memory up to this total; later files go to a spill file. */
const POOL_SIZE = 8 << 20;
/** The pool buffer is dropped after this long without a build. */
const POOL_IDLE_MS = 60_000;
const SPILL_BATCH = 1 << 20;
const COPY_CHUNK = 1 << 20;

/** Where a file's bytes are: the pool buffer, or the spill file. */
interface Content {
  inPool: boolean;
  offset: number;
}

interface Node {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtime: Date;
  size: number;
  linkname?: string;
  digest?: string;
  content?: Content;
  children?: Map<string, Node>;
}

/** The build's private directory: named up front, made only when something is written there. */
export interface ContextScratch {
  readonly path: string;
  /** Make the directory (mode 0700) if it is not there yet. */
  make(): Promise<void>;
}

/** A file the previous build left in a pool buffer: where, how long, its digest. */
interface PooledFile {
  offset: number;
  size: number;
  digest: string;
}

/** What a build gets from the pool: a buffer to fill, and the previous build's files in the other one. */
interface PoolLease {
  slot: number;
  buf: Buffer;
  previous?: { buf: Buffer; files: ReadonlyMap<string, PooledFile> };
}

/**
 * Two reusable buffers for file contents, used in turn by consecutive builds.
 *
 * Reused, so that a context held for the length of a build is not a new external allocation each
 * time: V8 counts promoted external memory towards the old generation, and holding the request's
 * own chunks made a full GC every build or two (bench: 8 mark-compacts per 30 cached builds
 * against 1). Two, so that the previous build's files are still there: a file that arrives with
 * the same name and size is compared with them as it streams (memcmp, ~10× faster than sha256),
 * and when every byte is equal its digest is the one computed then; at the first differing byte
 * the file is hashed from its start. Untouched pages cost nothing; both buffers are dropped after a
 * minute without builds. A build that finds the pool in use (concurrent builds) spills to a file.
 */
class ContentPool {
  private readonly bufs: Array<Buffer | undefined> = [undefined, undefined];
  /** The slot the last finished build filled, and its files. */
  private last = -1;
  private lastFiles: ReadonlyMap<string, PooledFile> = new Map();
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  acquire(): PoolLease | undefined {
    if (this.busy) return undefined;
    this.busy = true;
    clearTimeout(this.timer);
    const slot = this.last === 0 ? 1 : 0;
    const buf = (this.bufs[slot] ??= Buffer.allocUnsafeSlow(POOL_SIZE));
    const prev = this.last >= 0 ? this.bufs[this.last] : undefined;
    return { slot, buf, ...(prev && this.lastFiles.size > 0 ? { previous: { buf: prev, files: this.lastFiles } } : {}) };
  }

  release(lease: PoolLease, files: ReadonlyMap<string, PooledFile>): void {
    this.busy = false;
    this.last = lease.slot;
    this.lastFiles = files;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.busy) return;
      this.bufs.fill(undefined);
      this.last = -1;
      this.lastFiles = new Map();
    }, POOL_IDLE_MS).unref();
  }
}

const pool = new ContentPool();

/** File contents of one context: in a pool buffer while they fit, then in a spill file. */
class ContentStore {
  private lease: PoolLease | undefined;
  private mem: Buffer | undefined;
  private memUsed = 0;
  /** Files complete in `mem` (for the next build's comparison). */
  private readonly pooled = new Map<string, PooledFile>();
  private file: FileHandle | undefined;
  private spilled = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly scratch: ContextScratch;

  constructor(scratch: ContextScratch) {
    this.scratch = scratch;
    this.lease = pool.acquire();
    this.mem = this.lease?.buf;
  }

  /** Reserve room for a file of `size` bytes; its chunks are then passed to write() in order. */
  async begin(size: number): Promise<Content> {
    if (this.mem && this.memUsed + size <= this.mem.length) {
      const c = { inPool: true, offset: this.memUsed };
      this.memUsed += size;
      return c;
    }
    if (!this.file) {
      await this.scratch.make();
      this.file = await open(join(this.scratch.path, 'context.data'), 'wx+', 0o600);
    }
    return { inPool: false, offset: this.spilled + this.pendingBytes };
  }

  /** The previous build's copy of a file with this name and size, if it is still in the pool. */
  previous(name: string, size: number): { bytes: Buffer; digest: string } | undefined {
    const prev = this.lease?.previous;
    const f = prev?.files.get(name);
    if (!prev || !f || f.size !== size) return undefined;
    return { bytes: prev.buf.subarray(f.offset, f.offset + f.size), digest: f.digest };
  }

  /** The bytes of a pooled file received so far (to hash them after all). */
  pooledBytes(c: Content, length: number): Buffer {
    return this.mem!.subarray(c.offset, c.offset + length);
  }

  /** A file is complete: remembered for the next build when it is in the pool. */
  done(name: string, c: Content, size: number, digest: string): void {
    if (c.inPool) this.pooled.set(name, { offset: c.offset, size, digest });
  }

  /** The next chunk of the file begun at `c`, `at` bytes into it. */
  /** Synchronous for the pool; a promise when a batch of spilled bytes is being written (wait for it). */
  write(c: Content, at: number, chunk: Buffer): Promise<void> | undefined {
    if (c.inPool) {
      chunk.copy(this.mem!, c.offset + at);
      return undefined;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.pendingBytes >= SPILL_BATCH ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    if (!this.file || this.pending.length === 0) return;
    const out = this.pending;
    const at = this.spilled;
    this.pending = [];
    this.spilled += this.pendingBytes;
    this.pendingBytes = 0;
    await this.file.writev(out, at);
  }

  /** `length` bytes from `from` bytes into a file's content, into `into`. */
  async read(c: Content, from: number, into: Buffer): Promise<void> {
    if (c.inPool) {
      if (!this.mem) throw new Error('the build context was already released');
      this.mem.copy(into, 0, c.offset + from, c.offset + from + into.length);
      return;
    }
    await this.flush();
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.file!.read(into, done, into.length - done, c.offset + from + done);
      if (bytesRead === 0) throw new Error('the build context spill file is short');
      done += bytesRead;
    }
  }

  /** Give the pool buffer back and close the spill file (the caller removes the scratch directory). */
  async close(): Promise<void> {
    if (this.lease) {
      pool.release(this.lease, this.pooled);
      this.lease = undefined;
      this.mem = undefined;
    }
    const f = this.file;
    this.file = undefined;
    await f?.close().catch(() => undefined);
  }
}

function umaskedDirMode(): number {
  // process.umask() without an argument only reads it.
  return 0o755 & ~process.umask();
}

/** A tar entry's body stream (tar-stream's type for it is not exported). */
type TarEntry = tar.ExtractEvents['entry'][1];

/** What the body is written to: the tar parser, or a decompressor in front of it. */
interface Sink {
  write(chunk: Buffer): boolean;
  end(): unknown;
  once(event: 'drain', fn: () => void): unknown;
}

async function drain(entry: TarEntry): Promise<void> {
  for await (const _ of entry as unknown as AsyncIterable<Buffer>) {
    // discard
  }
}

/**
 * Feed the request body to the tar parser: straight for a plain tar (the docker CLI's default), or
 * through the decompressor its magic bytes name. Returns a function that stops feeding.
 */
function feed(src: Readable, extract: tar.Extract): { stop: () => void; paddedFrom: () => number | undefined } {
  const parser = extract as unknown as Sink;
  let head: Buffer | undefined;
  let sink: Sink | undefined;
  /** Uncompressed tar bytes given to the parser. */
  let fed = 0;
  /** Where the zeros completing a last partial block start, if the body ended inside a block. */
  let paddedFrom: number | undefined;
  const toParser = (chunk: Buffer, source: { pause(): unknown; resume(): unknown }): void => {
    fed += chunk.length;
    if (!parser.write(chunk)) {
      source.pause();
      parser.once('drain', () => source.resume());
    }
  };
  const finish = (): void => {
    if (fed % 512 !== 0) {
      paddedFrom = fed;
      parser.write(Buffer.alloc(512 - (fed % 512)));
    }
    parser.end();
  };
  const onData = (data: Buffer | string): void => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (sink) {
      if (sink === parser) toParser(chunk, src);
      else if (!sink.write(chunk)) {
        src.pause();
        sink.once('drain', () => src.resume());
      }
      return;
    }
    head = head ? Buffer.concat([head, chunk]) : chunk;
    if (head.length < 4) return; // a chunked body may deliver fewer in its first chunk
    const kind = detectCompression(head);
    if (kind === 'none') sink = parser;
    else {
      const d = kind === 'gzip' ? createGunzip() : createZstdDecompress();
      d.on('error', (err) => extract.destroy(err));
      d.on('data', (c: Buffer) => toParser(c, d));
      d.on('end', finish);
      sink = d as unknown as Sink;
    }
    const first = head;
    head = undefined;
    onData(first);
  };
  const onEnd = (): void => {
    if (!sink) {
      // Fewer than 4 bytes in all: not a tar, the parser says so.
      if (head) toParser(head, src);
      sink = parser;
    }
    if (sink === parser) finish();
    else sink.end();
  };
  const onError = (err: Error): void => {
    extract.destroy(err);
  };
  // A client that goes away mid-upload: no 'end', maybe no 'error' either.
  const onClose = (): void => {
    if (!src.readableEnded) extract.destroy(new Error('Unexpected end of data: the client closed the connection'));
  };
  src.on('data', onData);
  src.on('end', onEnd);
  src.on('error', onError);
  src.on('close', onClose);
  return {
    stop: () => {
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', onError);
      src.off('close', onClose);
    },
    paddedFrom: () => paddedFrom,
  };
}

/**
 * The received context: a TreeView over the index (an entry's `hostPath` is where the file is once
 * `dir()` has written the tree out), the contents of its files, and the writing out.
 */
export class ContextTree implements ContextSource {
  private readonly root: Node;
  private readonly store: ContentStore;
  private readonly scratch: ContextScratch;
  private readonly uid: number;
  private readonly gid: number;
  private readonly implicitDirMode: number;
  private readonly hostRoot: string;
  private writing: Promise<string> | undefined;
  /** Entries and regular-file bytes received. */
  entries = 0;
  bytes = 0;

  private constructor(scratch: ContextScratch) {
    this.scratch = scratch;
    this.store = new ContentStore(scratch);
    this.hostRoot = join(scratch.path, 'context');
    this.implicitDirMode = umaskedDirMode();
    this.root = { type: 'dir', mode: this.implicitDirMode, mtime: new Date(), size: 0, children: new Map() };
    // Unpacked files belong to the daemon's user (the context is never chowned).
    this.uid = process.geteuid?.() ?? 0;
    this.gid = process.getegid?.() ?? 0;
  }

  /**
   * Read a context tar (plain, gzip or zstd). Throws InvalidParameter on a hostile or broken one.
   * The caller must close() the tree when the build is over, whatever happens.
   */
  static async receive(src: Readable, scratch: ContextScratch): Promise<ContextTree> {
    const tree = new ContextTree(scratch);
    // A high-water mark above the request's 64 kB reads: no pause/resume of the body per read.
    const extract = tar.extract({ highWaterMark: 1 << 20 });
    /** Where the data of the last entry announced ends in the tar (its padding follows). */
    let dataEnd = Number.NaN;
    let placing: Promise<void> = Promise.resolve();
    const parsed = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header: tar.Header, body: TarEntry, next: () => void) => {
        const start = (header as tar.Header & { byteOffset?: number }).byteOffset;
        dataEnd = start === undefined ? Number.NaN : start + (header.type === 'directory' ? 0 : (header.size ?? 0));
        // The parser may destroy the body (a cut archive) before place() gets to listen to it.
        body.on('error', () => undefined);
        placing = tree.place(header, body).then(next, (err: unknown) => {
          extract.destroy(err instanceof Error ? err : new Error(String(err)));
        });
      });
      // Without end-of-archive blocks the parser can finish while the last body is being read.
      let finished = false;
      extract.on('finish', () => {
        finished = true;
        void placing.then(resolve);
      });
      extract.on('error', reject);
      extract.on('close', () => {
        if (!finished) reject(new Error('Unexpected end of data'));
      });
    });
    // `docker build -f - DIR` sends a tar that stops right after the last file's data: no padding,
    // no end-of-archive blocks (dockerd reads it). The feed completes the last block with zeros;
    // if those zeros were taken as file data rather than padding, the body was cut short.
    const feeding = feed(src, extract);
    try {
      await parsed;
      const paddedFrom = feeding.paddedFrom();
      if (paddedFrom !== undefined && !(dataEnd <= paddedFrom)) throw new Error('Unexpected end of data');
    } catch (err) {
      feeding.stop();
      extract.destroy();
      // Not destroyed: the route answers the error on this connection; the HTTP server discards
      // the rest of the body once it has.
      src.resume();
      // A place() in flight may still be opening the spill file: let it settle (its body is
      // destroyed with the parser, so it ends) before the tree closes what it has.
      await Promise.race([placing, sleep(10_000, undefined, { ref: false })]);
      await tree.close();
      if (err instanceof Error && !(err instanceof InvalidParameter) && /tar|header|Unexpected end/i.test(err.message)) {
        throw new InvalidParameter(`the build context is not a valid tar archive: ${err.message}`, { cause: err });
      }
      throw err;
    }
    return tree;
  }

  /** Walk to a node without following symlinks (lstat semantics: every parent must be a directory). */
  private node(parts: readonly string[]): Node | undefined {
    let n: Node | undefined = this.root;
    for (const p of parts) {
      n = n.children?.get(p);
      if (!n) return undefined;
    }
    return n;
  }

  /** The directory node for resolved parent parts, made (0755 & ~umask) where missing, as mkdir -p. */
  private mkdirs(parts: readonly string[], name: string): Node {
    let n = this.root;
    for (const p of parts) {
      let c = n.children!.get(p);
      if (!c) {
        c = { type: 'dir', mode: this.implicitDirMode, mtime: new Date(), size: 0, children: new Map() };
        n.children!.set(p, c);
      } else if (c.type !== 'dir') throw new InvalidParameter(`invalid build context entry ${name}: a parent is not a directory`);
      n = c;
    }
    return n;
  }

  /** One tar entry, placed as unpacking would place it. */
  private async place(h: tar.Header, body: TarEntry): Promise<void> {
    const parts = entryComponents(h.name);
    this.entries++;
    if (parts.length === 0) return drain(body);
    const parentParts = await resolveInView(this, parts.slice(0, -1));
    const name = parts[parts.length - 1];
    const dir = this.mkdirs(parentParts, h.name);
    const existing = dir.children!.get(name);
    if (existing && !(existing.type === 'dir' && h.type === 'directory')) dir.children!.delete(name);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        await drain(body);
        if (existing?.type === 'dir') {
          existing.mode = mode | 0o700;
          existing.mtime = mtime;
        } else dir.children!.set(name, { type: 'dir', mode: mode | 0o700, mtime, size: 0, children: new Map() });
        return;
      case 'file':
      case 'contiguous-file': {
        const content = await this.store.begin(h.size ?? 0);
        // The previous build's bytes of this file, while every byte so far equals them.
        let same = content.inPool ? this.store.previous(h.name, h.size ?? 0) : undefined;
        let hash = same ? undefined : createHash('sha256');
        let size = 0;
        await new Promise<void>((resolve, reject) => {
          body.on('data', (data: unknown) => {
            const chunk = data as Buffer;
            if (same && !same.bytes.subarray(size, size + chunk.length).equals(chunk)) {
              same = undefined;
              hash = createHash('sha256').update(this.store.pooledBytes(content, size));
            }
            hash?.update(chunk);
            const writing = this.store.write(content, size, chunk);
            size += chunk.length;
            if (writing) {
              body.pause();
              writing.then(() => body.resume(), reject);
            }
          });
          body.on('end', resolve);
          body.on('error', reject);
          if (body.destroyed) reject(new Error('Unexpected end of data'));
        });
        this.bytes += size;
        const digest = same && size === same.bytes.length ? same.digest : 'sha256:' + (hash ?? createHash('sha256').update(this.store.pooledBytes(content, size))).digest('hex');
        this.store.done(h.name, content, size, digest);
        dir.children!.set(name, { type: 'file', mode, mtime, size, digest, content });
        return;
      }
      case 'symlink':
        await drain(body);
        // Kept verbatim (even absolute): readers resolve it inside the context.
        dir.children!.set(name, { type: 'symlink', mode: 0o777, mtime, size: 0, linkname: h.linkname ?? '' });
        return;
      case 'link': {
        await drain(body);
        const targetParts = entryComponents(h.linkname ?? '');
        const resolved = targetParts.length === 0 ? [] : [...(await resolveInView(this, targetParts.slice(0, -1))), targetParts[targetParts.length - 1]];
        const target = this.node(resolved);
        if (target?.type !== 'file') throw new InvalidParameter(`invalid hardlink in build context: ${h.name} -> ${h.linkname}`);
        dir.children!.set(name, { ...target });
        return;
      }
      default:
        // Devices and FIFOs have no place in a build context.
        await drain(body);
    }
  }

  /** Drop what .dockerignore excludes, as removing them from an unpacked directory would (a directory holding `!` exceptions keeps them). */
  applyIgnore(ignored: IgnoreMatcher): void {
    if (this.writing) throw new Error('.dockerignore must be applied before the context is written out');
    const walk = (dir: Node, rel: string): void => {
      for (const [name, child] of [...dir.children!]) {
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (ignored(childRel)) {
          if (child.type === 'dir') {
            walk(child, childRel);
            if (child.children!.size === 0) dir.children!.delete(name);
          } else dir.children!.delete(name);
        } else if (child.type === 'dir') walk(child, childRel);
      }
    };
    walk(this.root, '');
  }

  /** A regular file's content (`parts` already resolved), or undefined if it is not a regular file. */
  async readFile(parts: readonly string[]): Promise<Buffer | undefined> {
    const n = this.node(parts);
    if (n?.type !== 'file') return undefined;
    const out = Buffer.allocUnsafe(n.size);
    if (n.size > 0) await this.store.read(n.content!, 0, out);
    return out;
  }

  /** The context written out as a directory (once; later calls return the same path). */
  dir(): Promise<string> {
    this.writing ??= (async () => {
      await this.scratch.make();
      await mkdir(this.hostRoot, { mode: 0o755 });
      await this.writeTree(this.root, this.hostRoot);
      await chmod(this.hostRoot, this.root.mode);
      return this.hostRoot;
    })();
    return this.writing;
  }

  private async writeTree(dir: Node, path: string): Promise<void> {
    for (const [name, n] of dir.children!) {
      const p = join(path, name);
      if (n.type === 'dir') {
        await mkdir(p, { mode: 0o700 });
        await this.writeTree(n, p);
        await chmod(p, n.mode);
      } else if (n.type === 'symlink') await symlink(n.linkname ?? '', p);
      else await this.writeFile(n, p);
    }
  }

  private async writeFile(n: Node, path: string): Promise<void> {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const buf = Buffer.allocUnsafe(Math.min(n.size, COPY_CHUNK));
      for (let at = 0; at < n.size; at += buf.length) {
        const part = buf.subarray(0, Math.min(buf.length, n.size - at));
        await this.store.read(n.content!, at, part);
        await fh.write(part, 0, part.length);
      }
      await fh.chmod(n.mode); // open()'s mode is masked by the umask
    } finally {
      await fh.close();
    }
  }

  /** The build is over: contents are no longer needed (the caller removes the scratch directory). */
  async close(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.store.close();
  }

  /** Where an entry is once the context is written out. */
  private hostPathOf(parts: readonly string[]): string {
    return parts.length === 0 ? this.hostRoot : join(this.hostRoot, ...parts);
  }

  async lstat(parts: readonly string[]): Promise<TreeEntry | undefined> {
    const n = this.node(parts);
    if (!n) return undefined;
    const e: TreeEntry = { type: n.type, mode: n.mode, uid: this.uid, gid: this.gid, size: n.type === 'file' ? n.size : 0, mtime: n.mtime, hostPath: this.hostPathOf(parts) };
    if (n.linkname !== undefined) e.linkname = n.linkname;
    if (n.digest) e.digest = n.digest;
    return e;
  }

  async readdir(parts: readonly string[]): Promise<string[]> {
    const n = this.node(parts);
    if (n?.type !== 'dir') throw new NotFound(`not a directory in the build context: /${parts.join('/')}`);
    return [...n.children!.keys()].sort();
  }
}
