import type { Writable } from 'node:stream';

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
  /** Live PID of the monitor process, if any. */
  monitorPid(id: string): Promise<number | undefined>;
}
