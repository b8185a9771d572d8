// Spawning a long-lived monitor (conmon) that must outlive berthd: own session, stdio on /dev/null,
// and extra pipe fds (3, 4, …) for the sync/start handshake.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { SystemError } from '../lib/errors.ts';
import { posixSpawn } from './posix-spawn.ts';

export interface DetachedSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** How many extra bidirectional pipes to pass as fds 3, 4, … (libuv makes them socketpairs). */
  extraPipes?: number;
  /** An open fd to use as the child's stderr (diagnostics); /dev/null otherwise. */
  stderrFd?: number;
  /** Working directory of the monitor (berthd's own otherwise). */
  cwd?: string;
}

export interface DetachedChild {
  pid: number;
  /** Our ends of the extra pipes, in fd order (index 0 = the child's fd 3). */
  pipes: Duplex[];
  /** Resolves with the exit code of the spawned process itself (not of what it daemonized). */
  exited: Promise<number>;
}

export async function spawnDetached(cmd: string, args: readonly string[], opts: DetachedSpawnOptions = {}): Promise<DetachedChild> {
  // posix_spawn (vfork) when koffi loads: conmon is spawned on every container start, and libuv's
  // fork of the whole daemon blocks the event loop for ~2 ms (more on a busy machine).
  const light = cmd.startsWith('/') ? await posixSpawn() : undefined;
  if (light) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.env ?? process.env)) if (v !== undefined) env[k] = v;
    const c = light.spawn(cmd, [cmd, ...args], { env, stderrFd: opts.stderrFd, extraSockets: opts.extraPipes ?? 0, cwd: opts.cwd });
    return { pid: c.pid, pipes: c.sockets, exited: c.exited };
  }
  return spawnWithChildProcess(cmd, args, opts);
}

function spawnWithChildProcess(cmd: string, args: readonly string[], opts: DetachedSpawnOptions): Promise<DetachedChild> {
  return new Promise((resolve, reject) => {
    const extra = opts.extraPipes ?? 0;
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'ignore', opts.stderrFd ?? 'ignore'];
    for (let i = 0; i < extra; i++) stdio.push('pipe');
    // detached → setsid(): the monitor gets its own session and process group, so a signal to
    // berthd's group (Ctrl-C, systemd stop) does not reach it.
    const child = spawn(cmd, args, { stdio, env: opts.env, detached: true, cwd: opts.cwd });
    const exited = new Promise<number>((res) => {
      child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 0)));
    });
    child.once('error', (e) => reject(new SystemError(`${cmd}: ${e.message}`, { cause: e })));
    child.once('spawn', () => {
      // Do not keep berthd's event loop alive for the monitor.
      child.unref();
      const pipes: Duplex[] = [];
      for (let i = 0; i < extra; i++) pipes.push(child.stdio[3 + i] as Duplex);
      resolve({ pid: child.pid!, pipes, exited });
    });
  });
}

/**
 * Is a process alive? A zombie is not: conmon's monitor is reparented to PID 1, and an init that
 * reaps slowly (this machine's) leaves it a zombie that signal 0 still finds.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export interface SupervisedSpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** A stdin pipe for the child; /dev/null otherwise. */
  stdin?: boolean;
  /** stdout/stderr as pipes; /dev/null otherwise. */
  output?: boolean;
}

/**
 * A child berthd supervises itself (e.g. `runc exec` of a non-TTY exec): stdio as pipes or
 * /dev/null, its own session (setsid), so a signal to berthd's process group is not forwarded to it.
 */
export function spawnSupervised(cmd: string, args: readonly string[], opts: SupervisedSpawnOptions = {}): ChildProcess {
  const out = opts.output ? 'pipe' : 'ignore';
  return spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', out, out], env: opts.env, detached: true });
}
