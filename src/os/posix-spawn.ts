// Spawning a short-lived helper (runc exec) with posix_spawn(3) through koffi instead of node's
// child_process: libuv forks the whole daemon (page tables of ~75 MB RSS copied, then copy-on-
// write faults) and waits for the exec, ~2.5 ms of blocked event loop per spawn here and more
// when the machine is busy; glibc's posix_spawn is clone(CLONE_VM|CLONE_VFORK), ~0.3 ms whatever
// the daemon's size. Falls back (undefined) when koffi cannot load.
//
// libuv reaps only the children it spawned (waitpid per pid), so this module reaps its own: the
// child gets the write end of an "exit pipe" as fd 3 (closed by the kernel when the child exits;
// runc passes no fd above 2 to the container process), and at its EOF waitpid(WNOHANG) collects the
// status.
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { SystemError } from '../lib/errors.ts';
import { log } from '../lib/logger.ts';
import { koffiLibc, type KoffiFn } from './koffi.ts';

export interface LightSpawnOptions {
  env: Record<string, string>;
  /** A stdin pipe for the child; /dev/null otherwise. */
  stdin?: boolean;
  /** stdout/stderr as pipes; /dev/null otherwise. */
  output?: boolean;
  /** An open fd to use as the child's stderr (instead of /dev/null; not with `output`). */
  stderrFd?: number;
  /** Working directory of the child (glibc ≥ 2.29); the daemon's otherwise. */
  cwd?: string;
  /**
   * Bidirectional socketpairs passed as fds 3, 4, … (like child_process's extra 'pipe' stdio),
   * for a monitor that daemonizes (conmon). With any, there is no exit pipe (the daemonized child
   * would keep it open): the spawned process is reaped by polling waitpid.
   */
  extraSockets?: number;
}

export interface LightChild {
  pid: number;
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  /** Exit code, or 128+n when killed by signal n. */
  exited: Promise<number>;
  /** Our ends of `extraSockets`, in fd order (index 0 = the child's fd 3). */
  sockets: Socket[];
}

interface Binding {
  spawn(cmd: string, argv: readonly string[], opts: LightSpawnOptions): LightChild;
}

const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
// glibc's posix_spawnattr flags
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Opaque glibc structs (x86_64: file actions 80 bytes, attr 336, sigset 128), with room to spare.
const FA_SIZE = 256;
const ATTR_SIZE = 512;
const SIGSET_SIZE = 128;

let loaded: Promise<Binding | undefined> | undefined;

/** The posix_spawn binding, or undefined when koffi is unavailable. Start loading early with `void posixSpawn()`. */
export function posixSpawn(): Promise<Binding | undefined> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Binding | undefined> {
  const bound = await koffiLibc();
  if (!bound) return undefined;
  const { koffi, func } = bound;
  const pipe2 = func('int pipe2(void *fds, int flags)');
  const socketpair = func('int socketpair(int domain, int type, int protocol, void *fds)');
  const close = func('int close(int fd)');
  const faInit = func('int posix_spawn_file_actions_init(void *fa)');
  const faDestroy = func('int posix_spawn_file_actions_destroy(void *fa)');
  const faDup2 = func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
  const faOpen = func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, int mode)');
  const attrInit = func('int posix_spawnattr_init(void *attr)');
  const attrDestroy = func('int posix_spawnattr_destroy(void *attr)');
  const attrSetFlags = func('int posix_spawnattr_setflags(void *attr, short flags)');
  const attrSetSigmask = func('int posix_spawnattr_setsigmask(void *attr, void *set)');
  const attrSetSigdefault = func('int posix_spawnattr_setsigdefault(void *attr, void *set)');
  const sigemptyset = func('int sigemptyset(void *set)');
  const sigfillset = func('int sigfillset(void *set)');
  const spawnFn = func('int posix_spawn(void *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)');
  const waitpid = func('int waitpid(int pid, void *status, int options)');
  // glibc ≥ 2.34: close every fd above the exit pipe in the child, also any the daemon inherited
  // without close-on-exec (child_process relies on close-on-exec alone).
  let faChdir: KoffiFn | undefined;
  try {
    faChdir = func('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)');
  } catch {
    faChdir = undefined;
  }
  let faCloseFrom: KoffiFn | undefined;
  try {
    faCloseFrom = func('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)');
  } catch {
    faCloseFrom = undefined;
  }

  const emptySet = Buffer.alloc(SIGSET_SIZE);
  const fullSet = Buffer.alloc(SIGSET_SIZE);
  sigemptyset(emptySet);
  sigfillset(fullSet);

  /** A pipe with both ends close-on-exec: [read, write]. */
  const pipe = (): [number, number] => {
    const fds = Buffer.alloc(8);
    if (pipe2(fds, O_CLOEXEC) !== 0) throw new SystemError(`pipe2: errno ${koffi.errno()}`);
    return [fds.readInt32LE(0), fds.readInt32LE(4)];
  };

  /** A close-on-exec AF_UNIX stream socketpair: [ours, theirs]. */
  const socketPair = (): [number, number] => {
    const fds = Buffer.alloc(8);
    if (socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds) !== 0) throw new SystemError(`socketpair: errno ${koffi.errno()}`);
    return [fds.readInt32LE(0), fds.readInt32LE(4)];
  };

  /** Collect the child's status once its exit pipe has closed (it may take a moment to become a zombie). */
  const reap = (pid: number): Promise<number> =>
    new Promise((resolve) => {
      const status = Buffer.alloc(4);
      let tries = 0;
      const attempt = (): void => {
        const r = waitpid(pid, status, WNOHANG) as number;
        if (r === pid) {
          const st = status.readInt32LE(0);
          const sig = st & 0x7f;
          resolve(sig === 0 ? (st >> 8) & 0xff : 128 + sig);
          return;
        }
        if (r < 0) {
          log.warn('waitpid failed', { pid, errno: koffi.errno() });
          resolve(-1);
          return;
        }
        tries++;
        if (tries < 20) setImmediate(attempt);
        else setTimeout(attempt, Math.min(100, tries - 19)).unref();
      };
      attempt();
    });

  const spawn = (cmd: string, argv: readonly string[], opts: LightSpawnOptions): LightChild => {
    const parentEnds: number[] = [];
    const childEnds: number[] = [];
    const fa = Buffer.alloc(FA_SIZE);
    const attr = Buffer.alloc(ATTR_SIZE);
    faInit(fa);
    attrInit(attr);
    try {
      let stdinW: number | undefined;
      if (opts.stdin) {
        const [r, w] = pipe();
        parentEnds.push(w);
        childEnds.push(r);
        stdinW = w;
        faDup2(fa, r, 0);
      } else {
        faOpen(fa, 0, '/dev/null', O_RDONLY, 0);
      }
      let outR: number | undefined;
      let errR: number | undefined;
      if (opts.stderrFd !== undefined && !opts.output) {
        faOpen(fa, 1, '/dev/null', 1, 0);
        faDup2(fa, opts.stderrFd, 2);
      } else if (opts.output) {
        const [or, ow] = pipe();
        const [er, ew] = pipe();
        parentEnds.push(or, er);
        childEnds.push(ow, ew);
        outR = or;
        errR = er;
        faDup2(fa, ow, 1);
        faDup2(fa, ew, 2);
      } else {
        faOpen(fa, 1, '/dev/null', 1, 0);
        faOpen(fa, 2, '/dev/null', 1, 0);
      }
      const extra = opts.extraSockets ?? 0;
      const socketEnds: number[] = [];
      let exitR: number | undefined;
      if (extra > 0) {
        for (let i = 0; i < extra; i++) {
          const [mine, theirs] = socketPair();
          parentEnds.push(mine);
          childEnds.push(theirs);
          socketEnds.push(mine);
          faDup2(fa, theirs, 3 + i);
        }
      } else {
        const [r, exitW] = pipe();
        exitR = r;
        parentEnds.push(r);
        childEnds.push(exitW);
        faDup2(fa, exitW, 3);
      }
      if (faCloseFrom) faCloseFrom(fa, 3 + Math.max(1, extra));
      if (opts.cwd !== undefined) {
        if (!faChdir) throw new SystemError(`${cmd}: posix_spawn cannot set a working directory here`);
        faChdir(fa, opts.cwd);
      }
      attrSetFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
      attrSetSigmask(attr, emptySet);
      attrSetSigdefault(attr, fullSet);
      const pidBuf = Buffer.alloc(4);
      const env = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
      const rc = spawnFn(pidBuf, cmd, fa, attr, [...argv, null], [...env, null]) as number;
      for (const fd of childEnds.splice(0)) close(fd);
      if (rc !== 0) throw new SystemError(`${cmd}: posix_spawn failed (errno ${rc})`);
      const pid = pidBuf.readInt32LE(0);
      const wrap = (fd: number, readable: boolean): Socket => new Socket({ fd, readable, writable: !readable });
      // From here the sockets own the fds.
      parentEnds.length = 0;
      let exited: Promise<number>;
      if (exitR !== undefined) {
        const exitPipe = wrap(exitR, true);
        exited = new Promise<number>((resolve) => {
          exitPipe.on('error', () => undefined);
          exitPipe.once('close', () => resolve(reap(pid)));
          exitPipe.resume();
        });
      } else {
        exited = reap(pid);
      }
      const sockets = socketEnds.map((fd) => new Socket({ fd, readable: true, writable: true }));
      return {
        pid,
        stdin: stdinW !== undefined ? wrap(stdinW, false) : undefined,
        stdout: outR !== undefined ? wrap(outR, true) : undefined,
        stderr: errR !== undefined ? wrap(errR, true) : undefined,
        exited,
        sockets,
      };
    } finally {
      faDestroy(fa);
      attrDestroy(attr);
      for (const fd of [...childEnds, ...parentEnds]) close(fd);
    }
  };
  return { spawn };
}
