import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Conflict, errorMessage } from '../../lib/errors.ts';
import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../lib/detachkeys.ts';
import { log } from '../../lib/logger.ts';
import type { ExecOutputChunk, RuntimeExec } from '../../runtime/types.ts';
import type { ContainerRecord } from '../containers/record.ts';
import { requireActive } from './create.ts';
import { publishExecEvent, type ExecDeps } from './deps.ts';
import { buildExecProcess } from './process.ts';
import type { ExecRecord } from './store.ts';

/** How long a process spec built at create is used by the start (older: built again, e.g. the user may be new). */
const PREPARED_FRESH_MS = 1000;

export interface ExecStartOptions {
  detach: boolean;
  /** ConsoleSize from the start body (API ≥ 1.42) overrides the one given at create. */
  consoleSize?: [number, number] | null;
}

/** The hijacked connection of an attached exec start. */
export interface ExecConnection {
  input: NodeJS.ReadableStream;
  output: Writable;
  close: () => void;
}

/** One output chunk on the wire: a multiplexed frame, or raw bytes with a TTY. */
export function frame(chunk: ExecOutputChunk, tty: boolean): Buffer {
  if (tty) return chunk.data;
  const header = Buffer.alloc(8);
  header[0] = chunk.stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(chunk.data.length, 4);
  return Buffer.concat([header, chunk.data]);
}

/**
 * POST /exec/{id}/start. Validates at once (404, 409) so the route can answer before it hijacks;
 * `run` starts the process. Attached: streams output to the connection and returns after the exit
 * (ExitCode is recorded before the connection closes, so the client's inspect sees it).
 * Detached: returns once the process runs.
 */
export function prepareExecStart(deps: ExecDeps, id: string, opts: ExecStartOptions): { tty: boolean; run: (conn?: ExecConnection) => Promise<void> } {
  const e = deps.execs.find(id);
  if (e.status === 'running' || e.status === 'starting') throw new Conflict(`Error: Exec command ${id} is already running`);
  if (e.status === 'exited') throw new Conflict(`Error: Exec command ${id} has already run`);
  const ctr = deps.repo.find(e.containerId);
  requireActive(ctr);
  if (opts.consoleSize && opts.consoleSize.length === 2) e.consoleSize = [opts.consoleSize[0], opts.consoleSize[1]];
  const detachKeys = parseDetachKeys(e.detachKeys || DEFAULT_DETACH_KEYS);
  e.status = 'starting';
  return { tty: e.tty, run: (conn) => runExec(deps, ctr, e, opts.detach ? undefined : conn, detachKeys) };
}

/**
 * Start the exec's process and keep its record: running with a pid, then exited with the exit
 * code and an exec_die event. `done` resolves with the exit code after that bookkeeping.
 */
export async function launchExec(deps: ExecDeps, ctr: ContainerRecord, e: ExecRecord, io: { attach: boolean; stdin: boolean }): Promise<{ session: RuntimeExec; done: Promise<number> }> {
  let session: RuntimeExec;
  try {
    requireActive(ctr); // it may have stopped since the exec was created
    const prepared = e.prepared;
    e.prepared = undefined;
    const process = prepared && Date.now() - prepared.at < PREPARED_FRESH_MS ? await prepared.process : await buildExecProcess(deps, ctr, e);
    publishExecEvent(deps, ctr, e, 'exec_start');
    session = await deps.runtime.exec({ containerId: ctr.id, execId: e.id, process, stdin: io.stdin, attach: io.attach });
  } catch (err) {
    // dockerd: a failed exec start has exit code 126.
    e.status = 'exited';
    e.exitCode = 126;
    e.endedAt = Date.now();
    throw err;
  }
  e.session = session;
  e.pid = session.pid;
  e.status = 'running';
  const done = session.exited
    .catch((err: unknown) => {
      log.warn('exec session failed', { id: e.id, error: err });
      return -1;
    })
    .then((code) => {
      e.exitCode = code;
      e.status = 'exited';
      e.endedAt = Date.now();
      e.session = undefined;
      publishExecEvent(deps, ctr, e, 'exec_die', { exitCode: String(code) });
      return code;
    });
  return { session, done };
}

async function runExec(deps: ExecDeps, ctr: ContainerRecord, e: ExecRecord, conn: ExecConnection | undefined, detachKeys: number[]): Promise<void> {
  let launched;
  try {
    launched = await launchExec(deps, ctr, e, { attach: !!conn, stdin: e.attachStdin && !!conn });
  } catch (err) {
    if (!conn) throw err;
    // The message goes to the client's stream, as dockerd writes it.
    conn.input.resume();
    conn.output.write(frame({ stream: 'stdout', data: Buffer.from(`${errorMessage(err)}\r\n`) }, e.tty));
    conn.close();
    return;
  }
  const { session, done } = launched;
  if (!conn) return;

  // Client gone or detached: stop writing, keep draining (the process keeps running, as in dockerd).
  let detached = false;
  const stop = new AbortController();
  conn.output.on('close', () => stop.abort());
  conn.output.on('error', () => stop.abort());
  const stdin = session.stdin;
  if (stdin) {
    stdin.on('error', () => undefined);
    const filter = new DetachKeyFilter(e.tty ? detachKeys : []);
    conn.input.on('data', (chunk: Buffer) => {
      if (detached) return;
      const { pass, detach } = filter.feed(chunk);
      if (pass.length) stdin.write(pass);
      if (detach) {
        detached = true;
        stop.abort();
        conn.close();
      }
    });
    conn.input.on('end', () => {
      if (!detached) stdin.end();
    });
  }
  conn.input.resume();
  try {
    for await (const chunk of session.output as AsyncIterable<ExecOutputChunk>) {
      if (stop.signal.aborted) continue;
      if (chunk.stream === 'stdout' ? !e.attachStdout : !e.attachStderr) continue;
      if (!conn.output.write(frame(chunk, e.tty))) await once(conn.output, 'drain', { signal: stop.signal }).catch(() => undefined);
    }
    await done;
  } finally {
    conn.close();
  }
}
