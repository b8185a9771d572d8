import type { Readable } from 'node:stream';

export interface BlobInfo {
  digest: string;
  size: number;
  mediaType: string;
  created: number;
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
  /** Stream into the store; verifies `expected` when given. */
  writeStream(src: Readable, opts?: { expected?: string; mediaType?: string }): Promise<{ digest: string; size: number }>;
  delete(digest: string): Promise<void>;
  list(): Promise<BlobInfo[]>;
}
