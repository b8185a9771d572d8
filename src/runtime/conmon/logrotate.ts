// Rotation of a container log that conmon writes (json-file's max-size / max-file). conmon only
// knows one file; berthd watches its size and, past max-size, shifts `<path>.N` names, renames the
// live file to `<path>.1` and asks conmon to reopen (ctl message 2): conmon keeps writing to the
// renamed file until it reopens, so no line is lost, and readers follow the new file by its name.
import { watch, type FSWatcher } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LogRotation } from '../types.ts';
import { log } from '../../lib/logger.ts';

export interface LogRotatorOptions extends LogRotation {
  path: string;
  /** Ask the writer to reopen `path` (conmon's ctl FIFO). */
  reopen: () => Promise<void>;
  /** Debounce of size checks after a write (ms). */
  checkMs?: number;
}

/**
 * conmon's own --log-size-max for a rotated log: a bound for when berthd is not there to rotate
 * (stopped, or far behind). At this size conmon starts the current file over, so it is generous.
 */
export function hardCap(rotation: LogRotation): number {
  return Math.max(4 * rotation.maxSize, rotation.maxSize + 32 * 1024 * 1024);
}

/** Shift the rotated names and move the live file to `<path>.1` (the oldest beyond max-file is dropped). */
export async function shiftFiles(path: string, maxFiles: number): Promise<void> {
  await rm(`${path}.${maxFiles - 1}`, { force: true });
  for (let i = maxFiles - 2; i >= 1; i--) {
    await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  if (maxFiles > 1) await rename(path, `${path}.1`);
}

export class LogRotator {
  private readonly opts: LogRotatorOptions;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private stopped = false;

  constructor(opts: LogRotatorOptions) {
    this.opts = opts;
  }

  /** Watch the log's directory (the file is replaced at each rotation) and check the size now. */
  start(): void {
    const name = basename(this.opts.path);
    try {
      this.watcher = watch(dirname(this.opts.path), { persistent: false }, (_event, changed) => {
        if (!changed || changed.toString() === name) this.schedule();
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      log.warn('log rotation: cannot watch the log directory', { path: this.opts.path, error: err });
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, this.opts.checkMs ?? 50);
    this.timer.unref();
  }

  /** Rotate if the live file reached max-size. */
  async check(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      const size = await stat(this.opts.path).then((s) => s.size, () => 0);
      if (size < this.opts.maxSize) return;
      await shiftFiles(this.opts.path, this.opts.maxFiles);
      // max-file=1: conmon's reopen starts the file over (its old content is dropped, as dockerd does).
      await this.opts.reopen();
    } catch (err) {
      log.debug('log rotation failed', { path: this.opts.path, error: err });
    } finally {
      this.busy = false;
    }
  }
}
