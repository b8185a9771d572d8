import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// sha256 computed on a worker thread. Verifying a pulled layer hashes every byte (~1 GB/s with
// SHA-NI): on the main thread that was the largest single cost of a pull, while the event loop
// also parses HTTP, writes files and unpacks. Two ways to feed the worker:
// - FileSha256 hashes a file as it is written: the writer reports how far the file is complete
//   and the worker reads that part back (from the page cache) — no copy on the main thread.
// - ThreadedSha256 hashes bytes in memory: chunks are gathered into ~1 MiB batches, copied into a
//   buffer that is transferred to the worker and transferred back to be reused.
// One worker is shared; it starts on first use and ends after a few idle seconds (a V8 isolate
// while alive). If it cannot start, hashing stays on the main thread; if it dies, the digests in
// flight fail (an error, never a wrong digest).

const BATCH = 1 << 20;
const IDLE_MS = 10_000;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const streams = new Map();
let buf;
function readTo(s, end) {
  buf ??= Buffer.allocUnsafeSlow(1 << 20);
  while (s.pos < end) {
    const n = readSync(s.fd, buf, 0, Math.min(buf.length, end - s.pos), s.pos);
    if (n === 0) throw new Error('file ended at ' + s.pos + ', expected ' + end + ' bytes');
    s.hash.update(buf.subarray(0, n));
    s.pos += n;
  }
}
function close(s) { if (s.fd !== undefined) { try { closeSync(s.fd); } catch {} s.fd = undefined; } }
parentPort.on('message', (m) => {
  let s = streams.get(m.id);
  try {
    if (m.op === 'file') { streams.set(m.id, { hash: createHash('sha256'), fd: openSync(m.path, 'r'), pos: 0 }); return; }
    if (!s) { s = { hash: createHash('sha256') }; streams.set(m.id, s); }
    if (s.error) { if (m.op === 'end') { streams.delete(m.id); parentPort.postMessage({ id: m.id, error: s.error }); } if (m.op === 'drop') streams.delete(m.id); return; }
    if (m.op === 'data') { s.hash.update(new Uint8Array(m.data, 0, m.len)); parentPort.postMessage({ op: 'free', data: m.data }, [m.data]); return; }
    if (m.op === 'upto') { readTo(s, m.end); return; }
    if (m.op === 'end') { if (m.end !== undefined) readTo(s, m.end); close(s); streams.delete(m.id); parentPort.postMessage({ id: m.id, digest: s.hash.digest('hex') }); return; }
    if (m.op === 'drop') { close(s); streams.delete(m.id); }
  } catch (err) {
    const e = String(err && err.message || err);
    if (s) { close(s); s.error = e; } else streams.set(m.id, { error: e });
  }
});
`;

interface Pending {
  resolve: (hex: string) => void;
  reject: (err: Error) => void;
}

class HashWorker {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 1;
  private live = 0;
  private idle: NodeJS.Timeout | undefined;
  private readonly pending = new Map<number, Pending>();
  /** Batch buffers the worker gave back. */
  readonly pool: ArrayBuffer[] = [];
  /** Data batches posted and not yet given back: memory the worker has not hashed yet. */
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  /** A stream id on the worker, or undefined when hashing must stay on this thread. */
  open(): number | undefined {
    if (this.broken) return undefined;
    if (!this.worker) {
      try {
        const w = new Worker(WORKER_SOURCE, { eval: true });
        w.on('message', (m: { id?: number; digest?: string; error?: string; op?: string; data?: ArrayBuffer }) => {
          if (m.op === 'free') {
            if (m.data && this.pool.length < 8) this.pool.push(m.data);
            this.batchDone();
            return;
          }
          const p = this.pending.get(m.id!);
          this.pending.delete(m.id!);
          if (m.error !== undefined) p?.reject(new Error(`hashing failed: ${m.error}`));
          else p?.resolve(m.digest!);
        });
        w.on('error', (err) => this.fail(err));
        w.on('exit', () => this.fail(new Error('hash worker exited')));
        this.worker = w;
      } catch {
        this.broken = true;
        return undefined;
      }
    }
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    // Referenced while a hash is open (an awaited digest keeps the process alive), not when idle.
    if (this.live++ === 0) this.worker!.ref();
    return this.nextId++;
  }

  post(msg: { id: number; op: string; path?: string; end?: number; data?: ArrayBuffer; len?: number }, transfer?: ArrayBuffer[]): void {
    if (!this.worker) return;
    if (msg.op === 'data') this.inFlight++;
    this.worker.postMessage(msg, transfer);
  }

  /** Resolves once the worker is less than MAX_IN_FLIGHT batches behind; undefined when it is already. */
  backlog(): Promise<void> | undefined {
    if (this.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private batchDone(): void {
    if (this.inFlight > 0) this.inFlight--;
    if (this.inFlight < MAX_IN_FLIGHT) for (const w of this.drainWaiters.splice(0)) w();
  }

  finish(id: number, end?: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (!this.worker) return reject(new Error('hash worker gone'));
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op: 'end', end });
    }).finally(() => this.close());
  }

  drop(id: number): void {
    this.worker?.postMessage({ id, op: 'drop' });
    this.close();
  }

  private close(): void {
    if (--this.live > 0 || !this.worker) return;
    this.worker.unref();
    this.idle = setTimeout(() => {
      const w = this.worker;
      this.worker = undefined;
      this.idle = undefined;
      this.pool.length = 0;
      if (w) {
        w.removeAllListeners('exit');
        void w.terminate();
      }
    }, IDLE_MS);
    this.idle.unref();
  }

  private fail(err: Error): void {
    // Streams in flight lose their digest (their writers fail and clean up); later ones hash here.
    this.broken = true;
    this.worker = undefined;
    this.inFlight = 0;
    for (const w of this.drainWaiters.splice(0)) w();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** Batches (1 MiB each) the worker may be behind before writers wait: bounds the copies held. */
const MAX_IN_FLIGHT = 8;

const shared = new HashWorker();

/**
 * sha256 of a file that is being written, read back by the worker as it grows. Undefined when
 * no worker is available (the caller hashes the bytes itself).
 */
export class FileSha256 {
  private readonly id: number;
  private reported = 0;
  private done = false;

  private constructor(id: number) {
    this.id = id;
  }

  static open(path: string): FileSha256 | undefined {
    const id = shared.open();
    if (id === undefined) return undefined;
    shared.post({ id, op: 'file', path });
    return new FileSha256(id);
  }

  /** Every byte before `end` is in the file (passed on in steps of about 4 MiB: each message wakes the worker). */
  written(end: number): void {
    if (this.done || end - this.reported < 4 * BATCH) return;
    this.reported = end;
    shared.post({ id: this.id, op: 'upto', end });
  }

  /** `sha256:<hex>` of the file's first `size` bytes (all written by now). */
  async digest(size: number): Promise<string> {
    if (this.done) throw new Error('hash already finished');
    this.done = true;
    return 'sha256:' + (await shared.finish(this.id, size));
  }

  dispose(): void {
    if (this.done) return;
    this.done = true;
    shared.drop(this.id);
  }
}

/** An incremental sha256 of bytes in memory, hashed off the main thread when it can be. */
export class ThreadedSha256 {
  private readonly id: number | undefined;
  private readonly local: Hash | undefined;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private done = false;

  constructor() {
    this.id = shared.open();
    if (this.id === undefined) this.local = createHash('sha256');
  }

  /** Add bytes (kept by reference until the next batch is sent). */
  update(chunk: Uint8Array): void {
    if (this.done) throw new Error('hash already finished');
    if (this.local) {
      this.local.update(chunk);
      return;
    }
    this.batch.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.batchBytes += chunk.byteLength;
    if (this.batchBytes >= BATCH) this.flush();
  }

  /** `sha256:<hex>` of everything added; ends the hash. */
  async digest(): Promise<string> {
    if (this.done) throw new Error('hash already finished');
    this.done = true;
    if (this.local) return 'sha256:' + this.local.digest('hex');
    this.flush();
    return 'sha256:' + (await shared.finish(this.id!));
  }

  /** A promise to wait on before feeding more when the worker has fallen behind (else undefined). */
  backlog(): Promise<void> | undefined {
    return this.local ? undefined : shared.backlog();
  }

  /** Abandon the hash (frees the worker's state). */
  dispose(): void {
    if (this.done) return;
    this.done = true;
    if (this.id !== undefined) shared.drop(this.id);
  }

  private flush(): void {
    const len = this.batchBytes;
    if (len === 0) return;
    // One copy into a buffer the worker gets (transferred) and gives back for the next batch.
    let ab = shared.pool.pop();
    if (!ab || ab.byteLength < len) ab = new ArrayBuffer(Math.max(len, BATCH + (BATCH >> 2)));
    const out = new Uint8Array(ab);
    let off = 0;
    for (const b of this.batch) {
      out.set(b, off);
      off += b.length;
    }
    this.batch = [];
    this.batchBytes = 0;
    shared.post({ id: this.id!, op: 'data', data: ab, len }, [ab]);
  }
}
