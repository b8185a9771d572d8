// syncfs(2) of the file system holding a path: one call makes every file written there durable
// (data, inodes and directory entries), where an fsync per file would cost a journal commit per
// file. Node has no binding for it, so coreutils' `sync -f` makes the call. Concurrent requests
// for the same path share a run: a caller waits for a sync that *starts* after its request (one
// already under way may have missed its writes), and every caller queued meanwhile shares that one.
import { run } from './exec.ts';

interface PathState {
  running?: Promise<void>;
  next?: Promise<void>;
}

const states = new Map<string, PathState>();

export function syncFilesystem(path: string): Promise<void> {
  let st = states.get(path);
  if (!st) {
    st = {};
    states.set(path, st);
  }
  const s = st;
  if (!s.running) {
    const p = run('sync', ['-f', path], { timeoutMs: 300_000 }).then(() => undefined);
    s.running = p;
    void p.catch(() => undefined).finally(() => {
      if (s.running === p) s.running = undefined;
      if (!s.running && !s.next) states.delete(path);
    });
    return p;
  }
  s.next ??= s.running
    .catch(() => undefined)
    .then(() => {
      s.next = undefined;
      return syncFilesystem(path);
    });
  return s.next;
}
