import type { FileHandle } from 'node:fs/promises';

// Streaming bytes into a file without a thread-pool round trip per chunk: chunks (typically 16-64
// KiB socket reads) are gathered into batches of ~1 MiB, each written with one positional writev,
// and a few batches may be in flight while the caller keeps producing. `write` only hands back a
// promise when too much is in flight, so a fast producer pays no await per chunk.

export interface BatchedWriterOptions {
  /** Gather this many bytes before a writev (default 1 MiB). */
  batchBytes?: number;
  /** `write` asks the caller to wait above this many bytes queued or in flight (default 8 MiB). */
  maxInFlightBytes?: number;
  /** File offset of the first byte (default 0). */
  start?: number;
  /**
   * Start an fdatasync in the background after every this many bytes written, so the kernel
   * writes a large file back while the rest arrives and a final fsync has little left to wait for.
   */
  syncEveryBytes?: number;
  /** Called as the file's written prefix grows: every byte before `end` is in the file. */
  onWritten?: (end: number) => void;
}

/** Chunks held between writev calls are kept by reference: callers must not reuse them. */
export class BatchedFileWriter {
  private readonly fh: FileHandle;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position: number;
  private inFlightBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { err: unknown } | undefined;
  private waiters: Array<() => void> = [];
  private readonly syncEvery: number;
  private unsynced = 0;
  private syncing = false;
  private readonly onWritten: ((end: number) => void) | undefined;
  /** Batches in flight, in file order, for the contiguous written prefix. */
  private readonly order: Array<{ end: number; done: boolean }> = [];
  /** Bytes accepted so far. */
  written = 0;

  constructor(fh: FileHandle, opts: BatchedWriterOptions = {}) {
    this.fh = fh;
    this.batchBytes = opts.batchBytes ?? 1 << 20;
    this.maxInFlight = opts.maxInFlightBytes ?? 8 << 20;
    this.position = opts.start ?? 0;
    this.syncEvery = opts.syncEveryBytes ?? 0;
    this.onWritten = opts.onWritten;
  }

  /** Queue `chunk`; a returned promise means "wait for it before writing more". */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.err);
    if (chunk.length === 0) return undefined;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.written += chunk.length;
    if (this.pendingBytes >= this.batchBytes) this.issue();
    if (this.inFlightBytes + this.pendingBytes >= this.maxInFlight) return this.below(this.maxInFlight / 2);
    return undefined;
  }

  /** Write what is queued and wait for every write; rejects with the first write error. */
  async flush(): Promise<void> {
    if (this.pendingBytes > 0 && !this.failure) this.issue();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure) throw this.failure.err;
  }

  private issue(): void {
    const bufs = this.pending;
    const n = this.pendingBytes;
    const pos = this.position;
    this.pending = [];
    this.pendingBytes = 0;
    this.position += n;
    this.inFlightBytes += n;
    const slot = { end: pos + n, done: false };
    this.order.push(slot);
    const p: Promise<void> = writeAll(this.fh, bufs, n, pos)
      .then(() => {
        slot.done = true;
        let end = -1;
        while (this.order.length > 0 && this.order[0].done) end = this.order.shift()!.end;
        if (end >= 0 && this.onWritten && !this.failure) this.onWritten(end);
      })
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => {
        this.inFlightBytes -= n;
        this.inFlight.delete(p);
        this.unsynced += n;
        if (this.syncEvery > 0 && this.unsynced >= this.syncEvery && !this.syncing && !this.failure) this.backgroundSync();
        const ws = this.waiters;
        this.waiters = [];
        for (const w of ws) w();
      });
    this.inFlight.add(p);
  }

  private backgroundSync(): void {
    this.syncing = true;
    this.unsynced = 0;
    const p: Promise<void> = this.fh
      .datasync()
      .catch((err: unknown) => {
        this.failure ??= { err };
      })
      .finally(() => {
        this.syncing = false;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  private async below(limit: number): Promise<void> {
    while (this.inFlightBytes > limit && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure.err;
  }
}

/** writev at `pos` until all `total` bytes are written (a regular file may take fewer per call). */
async function writeAll(fh: FileHandle, bufs: Buffer[], total: number, pos: number): Promise<void> {
  for (;;) {
    const n = (await fh.writev(bufs, pos)).bytesWritten;
    if (n >= total) return;
    if (n === 0) throw new Error('short write: the file system accepted no bytes');
    pos += n;
    total -= n;
    let skip = n;
    const rest: Buffer[] = [];
    for (const b of bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    bufs = rest;
  }
}
