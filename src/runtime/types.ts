import type { Writable } from 'node:stream';
import type { LinuxResources, RuntimeSpec } from '../types/oci.ts';

// ---- the monitor's container log ----

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  /** Nanoseconds since the Unix epoch. */
  time: bigint;
  stream: LogStream;
  /** The bytes the container wrote; full lines end with '\n'. */
  data: Buffer;
  partial: boolean;
}

export interface ReadLogOptions {
  /** Only the last N entries present when reading starts (then follow, if asked). */
  tail?: number;
  /** Skip entries before this time (ns since epoch, inclusive). */
  since?: bigint;
  /** End at the first entry after this time (ns since epoch). */
  until?: bigint;
  /** Keep reading as the file grows. */
  follow?: boolean;
  /** Stop at once (client went away). */
  signal?: AbortSignal;
  /**
   * Drain-then-stop: when this fires (e.g. the container's exit file appeared), read everything
   * already in the file and end. Nothing written before the abort is lost.
   */
  drainSignal?: AbortSignal;
  /** Polled at each end-of-file: true means the writer is done (drain, then end). */
  stopWhen?: () => boolean;
  /** How often follow re-checks without a file event (missed inotify, stopWhen). Default 250 ms. */
  pollMs?: number;
}


/** json-file's max-size / max-file: the monitor's log is rotated past `maxSize` bytes, keeping `maxFiles` files in all. */
export interface LogRotation {
  maxSize: number;
  maxFiles: number;
}

export interface RuntimeCreateOptions {
  id: string;
  /** Bundle directory holding config.json (rootfs is referenced by absolute path from it). */
  bundleDir: string;
  /** Container log file in conmon's k8s-file format. */
  logPath: string;
  tty: boolean;
  /** Keep a stdin pipe open (docker's OpenStdin). */
  stdin: boolean;
  /** Docker's StdinOnce: close the container's stdin when the first attached client ends its input. */
  stdinOnce?: boolean;
  /** Container name, for the monitor's own logs (default: id). */
  name?: string;
  /** Rotate the log (json-file max-size/max-file). */
  logRotation?: LogRotation;
  /** The monitor's own bound on the log file: past it the file starts over (overrides the runtime's default). */
  logSizeMax?: number;
  /**
   * The bundle is complete (config.json written, rootfs mounted) once this resolves. The monitor
   * is spawned at once and runs the runtime's `create` only then, so its start-up overlaps the
   * caller's preparation (the log file must be in place before `create`: the monitor opens it at
   * once); if it rejects, the monitor is killed before it runs anything and `create` rejects with
   * the same reason.
   */
  ready?: Promise<unknown>;
}

export interface RuntimeState {
  id: string;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
  bundle: string;
}

/**
 * An OCI runtime supervised by a container monitor (conmon): the monitor holds stdio, the log
 * file and the exit code, so containers outlive berthd.
 */
export interface ContainerRuntime {
  readonly name: string; // 'runc' | 'crun'
  /** Spawn the monitor and `create` the container; resolves with the container's pid. */
  create(opts: RuntimeCreateOptions): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string | number, all?: boolean): Promise<void>;
  /** Remove runtime state (and the monitor's files); `force` kills a live container first. */
  delete(id: string, force?: boolean): Promise<void>;
  state(id: string): Promise<RuntimeState | undefined>;
  /** The exit code the monitor recorded, or undefined if the container has not exited. */
  exitCode(id: string): Promise<number | undefined>;
  /** Called with a container ID whenever its monitor records an exit. Returns an unsubscribe. */
  onExit(listener: (id: string) => void): () => void;
  /** A writable to the container's stdin (requires `stdin: true` at create). */
  openStdin(id: string): Promise<Writable>;
  /** Resize the container's terminal. */
  resize(id: string, height: number, width: number): Promise<void>;
  /** Entries of a container log the monitor wrote (tail, since/until, follow with drain-then-stop). */
  readLog(logPath: string, opts?: ReadLogOptions): AsyncIterable<LogEntry>;
  /** Keep rotating a live container's log (after berthd restarted; `create` starts rotation itself). */
  resumeLogRotation(id: string, logPath: string, rotation: LogRotation): void;
  /** Remove the monitor's files (exit files, sockets, state) of containers not in `known`. */
  cleanupOrphans(known: ReadonlySet<string>): Promise<void>;
  /** Live PID of the monitor process, if any. */
  monitorPid(id: string): Promise<number | undefined>;
  /**
   * Run a further process in a running container under its own monitor. Resolves once the
   * process runs; rejects (`OCI runtime exec failed: …`) when the runtime could not start it.
   */
  exec(opts: RuntimeExecOptions): Promise<RuntimeExec>;
  /** Freeze every process of the container (freezer cgroup). */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Change the resources of a running container (`runc update`). */
  update(id: string, resources: LinuxResources): Promise<void>;
}

// ---- exec: a further process in a running container ----

/** The OCI process of an exec (what `runc exec --process` reads). */
export type ExecProcessSpec = RuntimeSpec['process'];

export interface RuntimeExecOptions {
  containerId: string;
  /** The exec session's ID (unique; names the monitor's files). */
  execId: string;
  process: ExecProcessSpec;
  /** Keep a stdin pipe open for the process (docker exec -i). */
  stdin: boolean;
  /**
   * Deliver output through `RuntimeExec.output`; the process starts only once that channel is
   * connected, so nothing is lost. Without it (exec -d) output is discarded.
   */
  attach: boolean;
}

export interface ExecOutputChunk {
  stream: LogStream;
  data: Buffer;
}

/** A running exec session. */
export interface RuntimeExec {
  pid: number;
  /** Output in the order written (a TTY's output is all 'stdout'); ends after the process's output closes. Empty unless `attach`. */
  output: AsyncIterable<ExecOutputChunk>;
  /** The process's stdin (only with `stdin` and `attach`); end() closes it. */
  stdin?: Writable;
  /** Resolves with the exit code once the process has exited and its output is drained. */
  exited: Promise<number>;
  resize(height: number, width: number): Promise<void>;
  /** Signal the process (e.g. a health check's timeout); a process that is gone is ignored. */
  kill(signal: number): void;
}

