import type { Readable } from 'node:stream';

export interface BlobInfo {
  digest: string;
  size: number;
  mediaType: string;
  created: number;
}

/** A blob being written (ContentStore.openWriter). */
export interface ContentWriter {
  /** Append bytes (kept by reference until written); a returned promise means "wait before writing more". */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Bytes written so far. */
  readonly size: number;
  /** sha256 of everything written; ends the writing (call after the last write). */
  digest(): Promise<string>;
  /**
   * Verify the digest against `expected` (InvalidParameter on a mismatch, and the ingest is
   * gone), fsync, and publish the blob under its digest.
   */
  commit(): Promise<{ digest: string; size: number }>;
  /** Drop the ingest file; harmless after a commit or a failed commit. */
  abort(): Promise<void>;
}

/**
 * Content-addressed blob store (containerd's shape: Provider + Ingester + Manager).
 * Blobs live at blobs/sha256/<hex>; writes go to ingest/ first and are renamed into place only
 * after their digest has been verified and the data fsynced.
 */
export interface ContentStore {
  info(digest: string): Promise<BlobInfo | undefined>;
  has(digest: string): Promise<boolean>;
  /** Path of a committed blob, for zero-copy readers. Throws NotFound. */
  path(digest: string): string;
  readStream(digest: string, opts?: { start?: number; end?: number }): Readable;
  readBytes(digest: string): Promise<Buffer>;
  /** Write a whole blob; verifies `expected` when given; returns the digest. */
  writeBytes(data: Uint8Array, opts?: { expected?: string; mediaType?: string }): Promise<string>;
  /**
   * An ingest for a blob written piece by piece (a download fed to several consumers): nothing is
   * visible under the digest until `commit` verified and fsynced it.
   */
  openWriter(opts?: { expected?: string; mediaType?: string; /** Expected size, when known (large blobs are hashed off the main thread). */ size?: number }): Promise<ContentWriter>;
  /** Stream into the store; verifies `expected` when given. */
  writeStream(src: Readable, opts?: { expected?: string; mediaType?: string }): Promise<{ digest: string; size: number }>;
  delete(digest: string): Promise<void>;
  list(): Promise<BlobInfo[]>;
}
