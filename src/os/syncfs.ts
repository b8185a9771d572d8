// syncfs(2) of the file system holding a path: one call makes every file written there durable
// (data, inodes and directory entries), where an fsync per file would cost a journal commit per
// file. Node has no binding for it: the call goes through koffi (os/libc.ts, on a worker thread),
// or, without koffi, through coreutils' `sync -f` (a fork of the daemon). Concurrent requests
// on the same file system share a run: a caller waits for a sync that *starts* after its request (one
// already under way may have missed its writes), and every caller queued meanwhile shares that one.
import { open, stat } from 'node:fs/promises';
import { SystemError } from '../lib/errors.ts';
import { run } from './exec.ts';
import { libc } from './libc.ts';

async function syncfsOnce(path: string): Promise<void> {
  const c = await libc();
  if (!c) {
    await run('sync', ['-f', path], { timeoutMs: 300_000 });
    return;
  }
  const fh = await open(path, 'r');
  try {
    const errno = await c.syncfs(fh.fd);
    if (errno !== 0) throw new SystemError(`syncfs ${path}: ${c.strerror(errno)}`);
  } finally {
    await fh.close();
  }
}

interface FsState {
  running?: Promise<void>;
  next?: Promise<void>;
}

/** Per file system (device number): syncs under way and queued. */
const states = new Map<number, FsState>();

export async function syncFilesystem(path: string): Promise<void> {
  const { dev } = await stat(path);
  return syncDevice(dev, path);
}

function syncDevice(dev: number, path: string): Promise<void> {
  let st = states.get(dev);
  if (!st) {
    st = {};
    states.set(dev, st);
  }
  const s = st;
  if (!s.running) {
    const p = syncfsOnce(path);
    s.running = p;
    void p.catch(() => undefined).finally(() => {
      if (s.running === p) s.running = undefined;
      if (!s.running && !s.next) states.delete(dev);
    });
    return p;
  }
  s.next ??= s.running
    .catch(() => undefined)
    .then(() => {
      s.next = undefined;
      return syncDevice(dev, path);
    });
  return s.next;
}
