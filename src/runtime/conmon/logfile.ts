// Reader for conmon's k8s-file container log: one entry per line,
//   <RFC3339Nano> <stdout|stderr> <P|F> <text>
// where P marks a partial line (to be joined with the next) and F a full one (newline stripped).
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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
  return (await tailScan(fh, size, n)).offset;
}

/** Where the last `n` lines start, and how many lines were found (fewer than `n`: offset 0). */
async function tailScan(fh: FileHandle, size: number, n: number): Promise<{ offset: number; lines: number }> {
  if (n <= 0) return { offset: size, lines: 0 };
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
      if (++newlines === n) return { offset: pos + i + 1, lines: n };
    }
    first = false;
  }
  // Every line of the file (a non-empty file ends with a newline, so it holds newlines + 1 lines).
  return { offset: 0, lines: size > 0 ? newlines + 1 : 0 };
}

/** The most rotated files a reader looks for (`<path>.1` … `<path>.N`); json-file's max-file is far below. */
const MAX_ROTATED = 1000;

interface OpenedFile {
  fh: FileHandle;
  ino: number;
  dev: number;
}

async function openIfExists(path: string): Promise<OpenedFile | undefined> {
  try {
    const fh = await open(path, 'r');
    const st = await fh.stat();
    return { fh, ino: st.ino, dev: st.dev };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The log's files, oldest first: the rotated ones (`<path>.N` … `<path>.1`, as berthd's rotation
 * names them) and the current one (undefined if it does not exist). The current file is opened
 * first; a file met twice because a rotation happened while opening is kept once.
 */
async function openChain(path: string): Promise<{ rotated: OpenedFile[]; current?: OpenedFile }> {
  const current = await openIfExists(path);
  const rotated: OpenedFile[] = [];
  const seen = new Set<string>(current ? [`${current.dev}:${current.ino}`] : []);
  for (let i = 1; i <= MAX_ROTATED; i++) {
    const f = await openIfExists(`${path}.${i}`);
    if (!f) break;
    const key = `${f.dev}:${f.ino}`;
    if (seen.has(key)) {
      await f.fh.close();
      continue;
    }
    seen.add(key);
    rotated.unshift(f);
  }
  return { rotated, current };
}

/**
 * Entries of a k8s-file log and its rotated predecessors (oldest first), optionally following the
 * current file as conmon appends, across rotations: when the path names a new file (conmon
 * reopened it after a rotation, or at its own size cap), the old one is read to its end first.
 */
export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const chain = await openChain(path);
  const files = [...chain.rotated];
  try {
    // Where to begin: the last `tail` lines across the files, newest backwards.
    let startFile = 0;
    let startPos = 0;
    const all = chain.current ? [...files, chain.current] : files;
    if (opts.tail !== undefined && opts.tail >= 0) {
      startFile = all.length;
      let want = opts.tail;
      for (let i = all.length - 1; i >= 0 && want > 0; i--) {
        const { offset, lines } = await tailScan(all[i].fh, (await all[i].fh.stat()).size, want);
        startFile = i;
        startPos = offset;
        want -= lines;
      }
      if (opts.tail === 0) startPos = chain.current ? (await chain.current.fh.stat()).size : 0;
    }
    // The rotated files: read once, no following.
    for (let i = startFile; i < files.length; i++) {
      for await (const e of readFile(files[i].fh, i === startFile ? startPos : 0, opts)) {
        if (e === UNTIL_REACHED) return;
        yield e;
        if (opts.signal?.aborted) return;
      }
    }
    const currentStart = startFile === files.length ? startPos : startFile > files.length ? (chain.current ? (await chain.current.fh.stat()).size : 0) : 0;
    yield* readCurrent(path, chain.current, currentStart, opts);
  } finally {
    for (const f of files) await f.fh.close().catch(() => undefined);
  }
}

const UNTIL_REACHED = Symbol('until');

/** Entries of one file from `pos` to its end (no following). */
async function* readFile(fh: FileHandle, pos: number, opts: ReadLogOptions): AsyncGenerator<LogEntry | typeof UNTIL_REACHED> {
  let pending = Buffer.alloc(0);
  const buf = Buffer.alloc(BLOCK);
  for (;;) {
    if (opts.signal?.aborted) return;
    const { bytesRead } = await fh.read(buf, 0, BLOCK, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    pending = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
    let start = 0;
    for (let nl = pending.indexOf(NL); nl >= 0; nl = pending.indexOf(NL, start)) {
      const e = parseLogLine(pending.subarray(start, nl));
      start = nl + 1;
      if (!e) continue;
      if (opts.until !== undefined && e.time > opts.until) {
        yield UNTIL_REACHED;
        return;
      }
      if (opts.since !== undefined && e.time < opts.since) continue;
      yield e;
    }
    pending = pending.subarray(start);
  }
}

/** The current file from `startPos`, following it (and its successors after rotations) when asked. */
async function* readCurrent(path: string, first: OpenedFile | undefined, startPos: number, opts: ReadLogOptions): AsyncGenerator<LogEntry> {
  let file = first;
  if (!file) {
    // No output yet: with follow, wait for the file to appear.
    if (!opts.follow) return;
    const fh = await waitForFile(path, opts);
    if (!fh) return;
    const st = await fh.stat();
    file = { fh, ino: st.ino, dev: st.dev };
    startPos = 0;
  }
  const waiter = opts.follow ? new ChangeWaiter(path, opts) : undefined;
  try {
    let pos = startPos;
    let pending = Buffer.alloc(0);
    const buf = Buffer.alloc(BLOCK);
    let draining = false;
    let switching = false;
    for (;;) {
      if (opts.signal?.aborted) return;
      const { bytesRead } = await file.fh.read(buf, 0, BLOCK, pos);
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
      if (!waiter) return;
      if (switching) {
        // The old file is read to its end (its writer closed it before the new one appeared).
        const next = await openIfExists(path);
        if (next) {
          await file.fh.close();
          file = next;
          pos = 0;
          pending = Buffer.alloc(0);
        }
        switching = false;
        continue;
      }
      const named = await stat(path).catch(() => undefined);
      if (named && (named.ino !== file.ino || named.dev !== file.dev)) {
        // Rotated: one more pass over the old file picks up its last writes, then switch.
        switching = true;
        continue;
      }
      if (draining) return;
      const size = (await file.fh.stat()).size;
      if (size < pos) {
        // Truncated in place: start over from the top.
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
    await file.fh.close();
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
    // The directory, not the file: the watch survives rotations (a new file under the same name).
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), (_event, changed) => {
        if (changed && changed.toString() !== name) return;
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
