// A non-TTY exec without a monitor: `runc exec --process <file> --pid-file <file> <id>` as a child
// of berthd with plain pipes. runc stays the process's parent: it copies stdio between our pipes
// and the process, forwards signals, reaps it and exits with its exit code (128+n for signal n).
// A TTY exec still goes through conmon (the pty master comes over runc's console socket, which
// node cannot receive).
//
// When has the process started? runc writes the pid file (temp name, then rename) after the
// start and before it waits: one inotify watch on the pid directory (ExecPidWatcher, shared by all
// execs) sees the rename. If runc exits without a pid file, the start failed and runc's log holds
// the reason. runc logs to a file, so nothing of runc's ever mixes into the process's stderr.
// Without attach (exec -d) the process's stdio is /dev/null, as nobody reads it.
//
// Files: <execRoot>/execs/<execId>.json (the process spec) and .log, and the .pid file (there, or
// in /dev/shm when the exec root is on disk: see ExecPidWatcher); they go when runc exits. A berthd
// restart forgets exec instances; runc and the process keep running (runc is in its own session),
// output written after berthd is gone is lost (runc's copy to the closed pipe fails), and the files
// are removed at the next start (cleanupOrphans).
import { constants as osConstants } from 'node:os';
import { mkdirSync, readFileSync, statfsSync, unlink, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { ExecOutputChunk, RuntimeExec, RuntimeExecOptions } from '../types.ts';
import { SystemError } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { spawnSupervised } from '../../os/spawn.ts';
import { posixSpawn } from '../../os/posix-spawn.ts';
import { runtimeMessage } from './runc.ts';

export interface DirectExecContext {
  runtimePath: string;
  runtimeRoot: string;
  pids: ExecPidWatcher;
  timeoutMs: number;
}

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

function onMemoryFs(path: string): boolean {
  try {
    const t = Number(statfsSync(path).type) >>> 0;
    return t === TMPFS_MAGIC || t === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Where the exec files go, and one fs.watch on the directory the pid files are renamed into (wakes
 * whoever waits for a name). runc writes a pid file with O_SYNC: on a disk filesystem that is a
 * journal commit (0.5–6 ms measured on ext4) in the middle of every exec. So when the exec root is
 * not on a tmpfs (usually it is: /run), the pid files go to /dev/shm, named after this daemon's exec
 * root so daemons sharing /dev/shm never touch each other's files.
 */
export class ExecPidWatcher {
  /** The process specs and runc logs. */
  readonly dir: string;
  private readonly execRoot: string;
  private pidDir?: string;
  private pidPrefix = '';
  private watcher?: FSWatcher;
  private readonly waiting = new Map<string, () => void>();

  constructor(execRoot: string) {
    this.execRoot = execRoot;
    this.dir = join(execRoot, 'execs');
  }

  /** Create the directory and the watch (synchronous, before the first runc is spawned). */
  ensure(): void {
    if (this.watcher) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o711 });
    if (!this.pidDir) {
      const shm = !onMemoryFs(this.dir) && onMemoryFs('/dev/shm');
      this.pidDir = shm ? '/dev/shm' : this.dir;
      this.pidPrefix = shm ? `berth-exec-${createHash('sha256').update(this.execRoot).digest('hex').slice(0, 12)}-` : '';
    }
    this.watcher = watch(this.pidDir, (_event, name) => {
      if (!name) return;
      const wake = this.waiting.get(name.toString());
      if (wake) wake();
    });
    // Pending execs hold the loop open through their runc child; the watch itself must not.
    this.watcher.unref();
    this.watcher.on('error', (err) => {
      log.warn('exec pid watch failed', { dir: this.pidDir, err });
      this.watcher?.close();
      this.watcher = undefined;
      for (const wake of this.waiting.values()) wake();
    });
  }

  /** The pid file of an exec (after ensure()). */
  pidName(execId: string): { name: string; path: string } {
    const name = `${this.pidPrefix}${execId}.pid`;
    return { name, path: join(this.pidDir ?? this.dir, name) };
  }

  /** Call `wake` when `name` appears (or may have); returns the unsubscribe. */
  on(name: string, wake: () => void): () => void {
    this.waiting.set(name, wake);
    return () => {
      if (this.waiting.get(name) === wake) this.waiting.delete(name);
    };
  }

  /** At daemon start: remove every exec file a previous run of this daemon left behind. */
  async removeLeftovers(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    const prefix = `berth-exec-${createHash('sha256').update(this.execRoot).digest('hex').slice(0, 12)}-`;
    const names = await readdir('/dev/shm').catch(() => [] as string[]);
    for (const n of names) if (n.startsWith(prefix) || n.startsWith(`.${prefix}`)) await rm(join('/dev/shm', n), { force: true });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'latin1').trim(), 10);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** runc's JSON log lines escape nothing further; a logrus text line escapes quotes (`\"`). */
function unquote(s: string): string {
  return s.replace(/\\"/g, '"').replace(/\\n$/, '').trim();
}

interface RuntimeChild {
  pid: number;
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  exit: Promise<{ code: number; error?: Error }>;
}

/** The runtime as berthd's child: through posix_spawn when koffi loads, else child_process. */
async function startRuntime(path: string, args: string[], io: { stdin: boolean; output: boolean }): Promise<RuntimeChild> {
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const light = await posixSpawn();
  if (light) {
    const c = light.spawn(path, [path, ...args], { env, ...io });
    return { pid: c.pid, stdin: c.stdin, stdout: c.stdout, stderr: c.stderr, exit: c.exited.then((code) => ({ code })) };
  }
  const c = spawnSupervised(path, args, { env, ...io });
  return {
    pid: c.pid ?? 0,
    stdin: c.stdin ?? undefined,
    stdout: c.stdout ?? undefined,
    stderr: c.stderr ?? undefined,
    exit: new Promise((resolve) => {
      c.once('error', (err) => resolve({ code: -1, error: new SystemError(`${path}: ${err.message}`, { cause: err }) }));
      c.once('exit', (code, signal) => resolve({ code: code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0) }));
    }),
  };
}

export async function directExec(ctx: DirectExecContext, opts: RuntimeExecOptions): Promise<RuntimeExec> {
  if (opts.process.terminal) throw new SystemError('direct exec: a TTY exec needs the monitor');
  ctx.pids.ensure();
  const processFile = join(ctx.pids.dir, `${opts.execId}.json`);
  const { name: pidName, path: pidFile } = ctx.pids.pidName(opts.execId);
  const logFile = join(ctx.pids.dir, `${opts.execId}.log`);
  // A small file in berthd's exec root (page cache; /run is usually tmpfs): one synchronous call costs
  // less than fs/promises' open/write/close round trips through the thread pool.
  writeFileSync(processFile, JSON.stringify(opts.process));
  // After the exit, off the critical path: unlink in the thread pool (rm would lstat first).
  const cleanup = (): void => {
    for (const f of [processFile, pidFile, logFile]) {
      unlink(f, (err) => {
        if (err && err.code !== 'ENOENT') log.warn('exec file cleanup failed', { file: f, err });
      });
    }
  };

  const args = ['--root', ctx.runtimeRoot, '--log-format=json', `--log=${logFile}`, 'exec', '--process', processFile, '--pid-file', pidFile, opts.containerId];
  let child: RuntimeChild;
  try {
    child = await startRuntime(ctx.runtimePath, args, { stdin: opts.stdin && opts.attach, output: opts.attach });
  } catch (err) {
    cleanup();
    throw err;
  }

  // Output: both pipes into one queue in arrival order.
  const queue = new Readable({ objectMode: true, read() {} });
  const outputDone = Promise.all(
    (['stdout', 'stderr'] as const).map((stream) => {
      const p = child[stream];
      if (!p) return undefined;
      p.on('data', (data: Buffer) => queue.push({ stream, data } satisfies ExecOutputChunk));
      return new Promise<void>((resolve) => p.once('close', () => resolve()));
    }),
  ).then(() => {
    queue.push(null);
  });
  const exit = child.exit;

  // Started = the pid file is there; runc exiting first = the start failed.
  const unwatch: Array<() => void> = [];
  const started = await new Promise<number | Error>((resolve) => {
    let settled = false;
    const check = (): boolean => {
      if (settled) return true;
      const p = readPid(pidFile);
      if (p === undefined) return false;
      settled = true;
      resolve(p);
      return true;
    };
    unwatch.push(ctx.pids.on(pidName, check));
    const timer = setTimeout(() => {
      if (check()) return;
      settled = true;
      try {
        if (child.pid > 0) process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      resolve(new SystemError(`OCI runtime exec failed: no process within ${ctx.timeoutMs} ms: unknown`));
    }, ctx.timeoutMs);
    unwatch.push(() => clearTimeout(timer));
    void exit.then(async ({ code, error }) => {
      if (check()) return;
      settled = true;
      if (error) return resolve(error);
      const text = await readFile(logFile, 'utf8').catch(() => '');
      resolve(new SystemError(`OCI runtime exec failed: ${unquote(runtimeMessage(text) || `exit status ${code}`)}: unknown`));
    });
  });
  for (const u of unwatch) u();
  if (started instanceof Error) {
    cleanup();
    throw started;
  }
  const pid = started;

  let finished = false;
  const exited = (async (): Promise<number> => {
    const { code } = await exit;
    finished = true;
    await outputDone;
    return code;
  })();
  void exited.finally(cleanup);
  const stdin = child.stdin;
  stdin?.on('error', () => undefined);
  return {
    pid,
    output: queue,
    stdin,
    exited,
    resize: async () => undefined, // no terminal
    kill: (signal) => {
      if (finished) return; // runc has reaped it: the pid may belong to another process by now
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    },
  };
}
