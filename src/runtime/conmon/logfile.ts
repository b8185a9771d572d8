// Reader for conmon's k8s-file container log: one entry per line,
//   <RFC3339Nano> <stdout|stderr> <P|F> <text>
// where P marks a partial line (to be joined with the next) and F a full one (newline stripped).
import { open, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { LogEntry, ReadLogOptions } from '../types.ts';
export type { LogEntry, LogStream, ReadLogOptions } from '../types.ts';
export { formatTimestamp } from '../../lib/time.ts';

const BLOCK = 64 * 1024;
const NL = 0x0a;

/** "2026-11-22T16:19:40.870014842+00:00" → ns since epoch; NaN-ish input → undefined. */
export function parseTimestamp(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(ms) * 1_000_000n + frac;
}

/** One log line (without its '\n'); undefined if it is not in k8s-file format. */
export function parseLogLine(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  let s3 = line.indexOf(0x20, s2 + 1);
  if (s3 < 0) s3 = line.length; // an empty full line may come without the separator
  const time = parseTimestamp(line.toString('latin1', 0, s1));
  const stream = line.toString('latin1', s1 + 1, s2);
  const tags = line.toString('latin1', s2 + 1, s3);
  if (time === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined;
  const partial = tags.split(':').includes('P');
  const text = line.subarray(Math.min(s3 + 1, line.length));
  const data = partial ? Buffer.from(text) : Buffer.concat([text, Buffer.from('\n')]);
  return { time, stream, data, partial };
}

/** Byte offset where the last `n` lines of the file start (reading backwards in blocks). */
export async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  const buf = Buffer.alloc(BLOCK);
  let pos = size;
  let newlines = 0;
  let first = true;
  while (pos > 0) {
    const len = Math.min(BLOCK, pos);
    pos -= len;
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== NL) continue;
      // The file's final newline ends the last line; it does not start one.
      if (first && pos + i === size - 1) continue;
      if (++newlines === n) return pos + i + 1;
    }
    first = false;
  }
  return 0;
}

/** Entries of a k8s-file log, optionally following it as conmon appends. */
export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    // No output yet: with follow, wait for the file to appear.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.follow) return;
    const appeared = await waitForFile(path, opts);
    if (!appeared) return;
    fh = appeared;
  }
  const waiter = opts.follow ? new ChangeWaiter(path, opts) : undefined;
  try {
    let pos = 0;
    if (opts.tail !== undefined && opts.tail >= 0) pos = await tailOffset(fh, (await fh.stat()).size, opts.tail);
    let pending = Buffer.alloc(0);
    const buf = Buffer.alloc(BLOCK);
    let draining = false;
    for (;;) {
      if (opts.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, BLOCK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        pending = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = pending.indexOf(NL); nl >= 0; nl = pending.indexOf(NL, start)) {
          const e = parseLogLine(pending.subarray(start, nl));
          start = nl + 1;
          if (!e) continue;
          if (opts.until !== undefined && e.time > opts.until) return;
          if (opts.since !== undefined && e.time < opts.since) continue;
          yield e;
          if (opts.signal?.aborted) return;
        }
        pending = pending.subarray(start);
        continue;
      }
      // End of file.
      if (!waiter || draining) return;
      const size = (await fh.stat()).size;
      if (size < pos) {
        // Truncated (conmon's --log-size-max): start over from the top.
        pos = 0;
        pending = Buffer.alloc(0);
        continue;
      }
      if (opts.drainSignal?.aborted || opts.stopWhen?.()) {
        // The writer is done: one more pass picks up what was written since the read above.
        draining = true;
        continue;
      }
      await waiter.wait();
    }
  } finally {
    waiter?.close();
    await fh.close();
  }
}

/** Resolves on a file change, a poll tick, or either signal. */
class ChangeWaiter {
  private watcher?: FSWatcher;
  private wake?: () => void;
  private readonly pollMs: number;
  private readonly opts: ReadLogOptions;
  private readonly onSignal = () => this.wake?.();
  private dirty = false;

  constructor(path: string, opts: ReadLogOptions) {
    this.opts = opts;
    this.pollMs = opts.pollMs ?? 250;
    try {
      this.watcher = watch(path, () => {
        this.dirty = true;
        this.wake?.();
      });
    } catch {
      // polling only
    }
    opts.signal?.addEventListener('abort', this.onSignal);
    opts.drainSignal?.addEventListener('abort', this.onSignal);
  }

  wait(): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        self.dirty = false;
        resolve();
      }
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.opts.signal?.removeEventListener('abort', this.onSignal);
    this.opts.drainSignal?.removeEventListener('abort', this.onSignal);
    this.wake?.();
  }
}

async function waitForFile(path: string, opts: ReadLogOptions): Promise<FileHandle | undefined> {
  const pollMs = opts.pollMs ?? 250;
  for (;;) {
    if (opts.signal?.aborted) return undefined;
    try {
      return await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (opts.drainSignal?.aborted || opts.stopWhen?.()) return undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(finish, Math.min(pollMs, 50));
      function finish() {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', finish);
        opts.drainSignal?.removeEventListener('abort', finish);
        resolve();
      }
      opts.signal?.addEventListener('abort', finish);
      opts.drainSignal?.addEventListener('abort', finish);
    });
  }
}
