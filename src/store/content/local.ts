import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, rmSync, type Stats } from 'node:fs';
import { open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { digestHex, isDigest } from '../../lib/digest.ts';
import { fsyncDir } from '../../lib/atomic.ts';
import { BatchedFileWriter } from '../../lib/batchwriter.ts';
import { FileSha256 } from '../../lib/hashthread.ts';
import { InvalidParameter, NotFound } from '../../lib/errors.ts';
import type { MetaDb } from '../meta/db.ts';
import type { BlobInfo, ContentStore, ContentWriter } from './store.ts';

export interface LocalContentStoreOptions {
  /** `<dataRoot>/content`. */
  root: string;
  /** When given, media types are recorded in the `blobs` table (the files stay the source of truth). */
  db?: MetaDb;
}

/**
 * Content store on the local filesystem: `blobs/sha256/<hex>` plus `ingest/` for writes in flight.
 * A blob appears under its digest only after its bytes were hashed, verified and fsynced, so a
 * reader never sees a partial or wrong blob, and a crash leaves at most a stale ingest file,
 * which the constructor sweeps away.
 */
export class LocalContentStore implements ContentStore {
  readonly root: string;
  private readonly db?: MetaDb;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(opts: LocalContentStoreOptions) {
    this.root = opts.root;
    this.db = opts.db;
    this.blobDir = join(this.root, 'blobs', 'sha256');
    this.ingestDir = join(this.root, 'ingest');
    mkdirSync(this.blobDir, { recursive: true });
    // Nothing can be writing yet: every ingest file is left over from a crash.
    rmSync(this.ingestDir, { recursive: true, force: true });
    mkdirSync(this.ingestDir, { recursive: true });
  }

  private blobPath(digest: string): string {
    if (!isDigest(digest)) throw new InvalidParameter(`invalid digest: ${digest}`);
    return join(this.blobDir, digestHex(digest));
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    let st: Stats;
    try {
      st = await stat(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const row = this.db?.get<{ media_type: string; created: number }>('SELECT media_type, created FROM blobs WHERE digest = ?', digest);
    return { digest, size: st.size, mediaType: row?.media_type ?? '', created: row?.created ?? Math.floor(st.mtimeMs) };
  }

  async has(digest: string): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  path(digest: string): string {
    const p = this.blobPath(digest);
    if (!existsSync(p)) throw new NotFound(`content ${digest}: not found`);
    return p;
  }

  readStream(digest: string, opts: { start?: number; end?: number } = {}): Readable {
    return createReadStream(this.path(digest), { start: opts.start, end: opts.end });
  }

  async readBytes(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async writeBytes(data: Uint8Array, opts: { expected?: string; mediaType?: string } = {}): Promise<string> {
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    if (opts.expected !== undefined && opts.expected !== digest) {
      throw new InvalidParameter(`digest mismatch: expected ${opts.expected}, got ${digest}`);
    }
    if (!(await this.has(digest))) {
      await this.commitIngest(async (fh) => {
        await fh.writeFile(data);
      }, digest);
    }
    this.record(digest, data.length, opts.mediaType);
    return digest;
  }

  async openWriter(opts: { expected?: string; mediaType?: string; size?: number } = {}): Promise<ContentWriter> {
    if (opts.expected !== undefined && !isDigest(opts.expected)) throw new InvalidParameter(`invalid digest: ${opts.expected}`);
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await open(tmp, 'wx', 0o644);
    return new LocalWriter(fh, tmp, opts, {
      publish: async (digest) => {
        await rename(tmp, this.blobPath(digest));
        await fsyncDir(this.blobDir);
      },
      record: (digest, size) => this.record(digest, size, opts.mediaType),
    });
  }

  async writeStream(src: Readable, opts: { expected?: string; mediaType?: string } = {}): Promise<{ digest: string; size: number }> {
    const w = await this.openWriter(opts);
    try {
      for await (const chunk of src as AsyncIterable<Buffer | string>) {
        const wait = w.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        if (wait) await wait;
      }
      return await w.commit();
    } finally {
      await w.abort();
    }
  }

  /**
   * Write into a fresh ingest file, fsync, and rename it to its digest. `fill` writes the data and
   * may return the digest when it only knows it afterwards. Any failure removes the ingest file.
   */
  private async commitIngest(fill: (fh: import('node:fs/promises').FileHandle) => Promise<string | void>, knownDigest?: string): Promise<void> {
    const tmp = join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await open(tmp, 'wx', 0o644);
    try {
      let digest: string | void;
      try {
        digest = (await fill(fh)) ?? knownDigest;
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (!digest) throw new Error('content ingest finished without a digest');
      await rename(tmp, this.blobPath(digest));
      await fsyncDir(this.blobDir);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private record(digest: string, size: number, mediaType: string | undefined): void {
    if (!this.db) return;
    this.db.run(
      `INSERT INTO blobs (digest, size, media_type, created) VALUES (?, ?, ?, ?)
       ON CONFLICT(digest) DO UPDATE SET media_type = CASE WHEN excluded.media_type <> '' THEN excluded.media_type ELSE blobs.media_type END`,
      digest,
      size,
      mediaType ?? '',
      Date.now(),
    );
  }

  async delete(digest: string): Promise<void> {
    const p = this.blobPath(digest);
    // Row first, file second: a crash in between leaves an unrecorded file, which is harmless.
    this.db?.run('DELETE FROM blobs WHERE digest = ?', digest);
    try {
      await unlink(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const name of await readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const info = await this.info('sha256:' + name);
      if (info) out.push(info);
    }
    return out;
  }
}

/** Blobs at least this large are hashed on the worker thread (below, starting it costs more). */
const OFF_THREAD_BYTES = 4 << 20;

/** One ingest file: hashed as it is written, published under its digest by `commit`. */
class LocalWriter implements ContentWriter {
  /** Large blobs: the worker thread hashes the file as it grows. Others: hashed here. */
  private readonly fileHash: FileSha256 | undefined;
  private readonly hash: Hash | undefined;
  private readonly out: BatchedFileWriter;
  private fh: FileHandle | undefined;
  private sum: Promise<string> | undefined;
  private done = false;
  private readonly tmp: string;
  private readonly opts: { expected?: string };
  private readonly store: { publish(digest: string): Promise<void>; record(digest: string, size: number): void };
  constructor(fh: FileHandle, tmp: string, opts: { expected?: string; size?: number }, store: LocalWriter['store']) {
    this.tmp = tmp;
    this.opts = opts;
    this.store = store;
    this.fh = fh;
    const fileHash = (opts.size ?? 0) >= OFF_THREAD_BYTES ? FileSha256.open(tmp) : undefined;
    this.fileHash = fileHash;
    if (!fileHash) this.hash = createHash('sha256');
    this.out = new BatchedFileWriter(fh, { syncEveryBytes: 8 << 20, onWritten: fileHash ? (end) => fileHash.written(end) : undefined });
  }

  get size(): number {
    return this.out.written;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.sum !== undefined) throw new Error('content writer: write after digest()');
    this.hash?.update(chunk);
    return this.out.write(chunk);
  }

  digest(): Promise<string> {
    this.sum ??= (async () => {
      if (!this.fileHash) return 'sha256:' + this.hash!.digest('hex');
      await this.out.flush();
      return this.fileHash.digest(this.out.written);
    })();
    return this.sum;
  }

  async commit(): Promise<{ digest: string; size: number }> {
    if (this.done || !this.fh) throw new Error('content writer: already finished');
    try {
      const digest = await this.digest();
      if (this.opts.expected !== undefined && this.opts.expected !== digest) {
        throw new InvalidParameter(`digest mismatch: expected ${this.opts.expected}, got ${digest}`);
      }
      await this.out.flush();
      await this.fh.sync();
      const fh = this.fh;
      this.fh = undefined;
      await fh.close();
      await this.store.publish(digest);
      this.done = true;
      this.store.record(digest, this.size);
      return { digest, size: this.size };
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.sum === undefined) this.fileHash?.dispose();
    if (this.fh) {
      const fh = this.fh;
      this.fh = undefined;
      await this.out.flush().catch(() => undefined); // no write may land after the unlink
      await fh.close().catch(() => undefined);
    }
    if (!this.done) {
      this.done = true;
      await rm(this.tmp, { force: true });
    }
  }
}
