import { InvalidParameter } from '../../lib/errors.ts';
import { formatTimestamp } from '../../lib/time.ts';
import type { LogEntry } from '../../runtime/types.ts';
import { parseEventTime } from '../system/events.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import { isRunning, type ContainerRecord } from './record.ts';
import { assertReadable, logDetails, outputSettings } from './logconfig.ts';

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  timestamps: boolean;
  tail: string;
  since?: string;
  until?: string;
  details: boolean;
}

/** One chunk of attach/logs output: a multiplexed frame, or raw bytes with a TTY. */
export function encodeEntry(entry: LogEntry, tty: boolean, timestamps: boolean): Buffer {
  let payload = entry.data;
  if (timestamps) payload = Buffer.concat([Buffer.from(formatTimestamp(entry.time) + ' '), payload]);
  if (tty) return payload;
  const header = Buffer.alloc(8);
  header[0] = entry.stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A promise that resolves once the container is no longer running (immediately if it isn't). */
export function untilExit(deps: ContainerDeps, rec: ContainerRecord, signal: AbortSignal): Promise<void> {
  if (!isRunning(rec.state)) return Promise.resolve();
  return deps.lifecycle.nextExit(rec.id, signal).then(() => undefined, () => undefined);
}

/**
 * GET /containers/{id}/logs. Validates at once; `run` streams the entries from conmon's log
 * file, following (until the container exits or the client goes) when asked.
 */
export function containerLogs(deps: ContainerDeps, ref: string, opts: LogsOptions): { tty: boolean; run: (write: (b: Buffer) => void | Promise<void>, signal: AbortSignal) => Promise<void> } {
  const rec = deps.repo.find(ref);
  if (!opts.stdout && !opts.stderr) throw new InvalidParameter('Bad parameters: you must choose at least one stream');
  const out = outputSettings(rec, containerPaths(deps, rec.id));
  assertReadable(out);
  let tail: number | undefined;
  if (opts.tail !== 'all' && opts.tail !== '') {
    tail = Number(opts.tail);
    if (!Number.isInteger(tail) || tail < 0) tail = undefined; // dockerd treats a bad tail as "all"
  }
  const since = parseEventTime(opts.since && opts.since !== '0' ? opts.since : null);
  const until = parseEventTime(opts.until && opts.until !== '0' ? opts.until : null);
  const tty = rec.config.Tty;
  // logs --details: the log's attributes before each line (dockerd prints the space even without any).
  const details = opts.details ? Buffer.from(`${logDetails(rec)} `) : undefined;
  // `write` may return a promise (a slow client): it is awaited, so a big log is never buffered whole.
  const run = async (write: (b: Buffer) => void | Promise<void>, signal: AbortSignal): Promise<void> => {
    const follow = opts.follow && isRunning(rec.state) && until === undefined;
    // At the container's exit: read what is left in the file, then end.
    const drain = new AbortController();
    if (follow) void untilExit(deps, rec, signal).then(() => drain.abort());
    const entries = deps.runtime.readLog(out.path, { tail, since, until, follow, signal, drainSignal: drain.signal });
    for await (const entry of entries) {
      if (entry.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
      await write(encodeEntry(details ? { ...entry, data: Buffer.concat([details, entry.data]) } : entry, tty, opts.timestamps));
    }
  };
  return { tty, run };
}
