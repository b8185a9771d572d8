import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { log } from '../../lib/logger.ts';
import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../lib/detachkeys.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import { encodeEntry } from './logs.ts';
import { isRunning } from './record.ts';
import { outputSettings } from './logconfig.ts';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  stream: boolean;
  logs: boolean;
  detachKeys?: string;
}

export interface AttachConnection {
  input: NodeJS.ReadableStream;
  output: Writable;
  close: () => void;
}

/**
 * POST /containers/{id}/attach. Output is read from conmon's log file (which conmon writes before
 * it records the exit, so nothing is lost at exit); stdin goes to conmon's attach socket.
 * Attaching to a container that is not running waits for its start (docker run / start -a).
 */
export function attachContainer(deps: ContainerDeps, ref: string, opts: AttachOptions): { tty: boolean; run: (conn: AttachConnection) => Promise<void> } {
  const rec = deps.repo.find(ref);
  const tty = rec.config.Tty;
  // A TTY session ends (the container keeps running) when the detach sequence comes on stdin.
  const detachKeys = tty ? parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS) : [];
  const run = async (conn: AttachConnection): Promise<void> => {
    const abort = new AbortController();
    conn.output.on('close', () => abort.abort());
    conn.output.on('error', () => abort.abort());
    const attachedAt = BigInt(Date.now()) * 1_000_000n;
    const wantStdin = opts.stdin && rec.config.OpenStdin;
    let unhook: (() => void) | undefined;
    let stdin: Writable | undefined;
    const connectStdin = async (): Promise<void> => {
      if (abort.signal.aborted) return;
      try {
        stdin = await deps.runtime.openStdin(rec.id);
      } catch (err) {
        log.warn('attach: stdin unavailable', { id: rec.id, error: err });
        return;
      }
      stdin.on('error', () => undefined);
      const sink = stdin;
      const filter = new DetachKeyFilter(detachKeys);
      conn.input.on('data', (chunk: Buffer) => {
        if (abort.signal.aborted) return;
        const { pass, detach } = filter.feed(chunk);
        if (pass.length) sink.write(pass);
        if (detach) abort.abort();
      });
      conn.input.on('end', () => {
        if (rec.config.StdinOnce && !tty) sink.end(); // moby: CloseStdin && !TTY
      });
      conn.input.resume();
    };
    if (!wantStdin) conn.input.resume(); // drain and ignore: the client may half-close at once
    // Subscribe to the exit before anything can start the container, so a fast exit is not missed.
    const drain = new AbortController();
    const exit = opts.stream ? deps.lifecycle.nextExit(rec.id, abort.signal) : Promise.resolve(undefined);
    exit.then(() => drain.abort(), () => drain.abort());
    try {
      // Wait for a start if the container is not running yet.
      if (!isRunning(rec.state) && opts.stream) {
        const started = deps.lifecycle.started(rec.id, abort.signal);
        started.catch(() => undefined);
        if (wantStdin) unhook = deps.lifecycle.addPreStartHook(rec.id, connectStdin);
        if (!(await started)) return; // the start failed: end the session
      } else if (wantStdin && isRunning(rec.state)) {
        await connectStdin();
      }
      if (!isRunning(rec.state)) drain.abort();
      if (!opts.stdout && !opts.stderr) {
        if (isRunning(rec.state)) await exit.catch(() => undefined);
        return;
      }
      const out = outputSettings(rec, containerPaths(deps, rec.id));
      const entries = deps.runtime.readLog(out.path, {
        // Without a log (driver none) there is nothing to replay.
        since: opts.logs && out.readable ? undefined : attachedAt,
        follow: opts.stream,
        signal: abort.signal,
        drainSignal: drain.signal,
      });
      for await (const entry of entries) {
        if (entry.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
        if (!conn.output.write(encodeEntry(entry, tty, false))) await once(conn.output, 'drain', { signal: abort.signal });
      }
    } catch (err) {
      if (!abort.signal.aborted) log.warn('attach failed', { id: rec.id, error: err });
    } finally {
      unhook?.();
      stdin?.destroy(); // our connection to conmon's attach socket
      conn.close();
    }
  };
  return { tty, run };
}
