// ContainerRuntime over conmon + an OCI runtime CLI. conmon holds the container's stdio, log file
// and exit code, and is detached from berthd, so containers survive a daemon restart.
//
// Files (execRoot is berth's run directory, e.g. /run/berth):
//   <execRoot>/runc/<id>/           the OCI runtime's state (--root)
//   <execRoot>/exits/<id>           exit code, written by conmon when the container ends
//   <execRoot>/socket/<id> → bundle conmon's link; <link>/attach (SOCK_SEQPACKET), <link>/ctl (FIFO)
//   <execRoot>/conmon/<id>/         conmon.pid, pidfile (container pid), runtime.log, conmon.log
//   <execRoot>/execs/               non-TTY execs (runc exec without conmon): <execId>.json/.log, and
//                                   .pid unless the exec root is on disk (then in /dev/shm)
import { mkdir, readFile, readdir, rm, open as openFile } from 'node:fs/promises';
import { constants, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRuntime, LogEntry, LogRotation, ReadLogOptions, RuntimeCreateOptions, RuntimeExec, RuntimeExecOptions, RuntimeState } from '../types.ts';
import type { LinuxResources } from '../../types/oci.ts';
import { LogRotator, hardCap } from './logrotate.ts';
import { readLog } from './logfile.ts';
import { connectAttachSocket, stdinWriter, writeResize } from './attachsock.ts';
import { readExitFile } from './exitfile.ts';
import { conmonExec } from './exec.ts';
import { directExec, ExecPidWatcher } from '../oci/exec.ts';

export { readExitFile };
import { OciRuntimeCli, runtimeMessage } from '../oci/runc.ts';
import { spawnDetached, pidAlive, type DetachedChild } from '../../os/spawn.ts';
import { removeCgroup } from '../../os/cgroups.ts';
import { NotFound, SystemError, Conflict } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';

export interface ConmonRuntimeOptions {
  /** OCI runtime binary, e.g. /usr/bin/runc. */
  runtimePath: string;
  /** The runtime's --root; default <execRoot>/runc. */
  runtimeRoot?: string;
  conmonPath: string;
  execRoot: string;
  /** Name reported by `name` (HostConfig.Runtime); default the runtime binary's basename. */
  name?: string;
  /** --log-size-max for conmon (bytes); unset = unbounded. */
  logSizeMax?: number;
  /** How long create may take before it is abandoned. */
  createTimeoutMs?: number;
  /** See OciRuntimeOptions.fifoStart (default: on for runc). */
  fifoStart?: boolean;
}

/** The failure of `create` as the runtime reported it (e.g. `exec: "x": executable file not found in $PATH`). */
export class RuntimeCreateError extends SystemError {
  /** The runtime's own message, without the `OCI runtime create failed` prefix. */
  readonly runtimeMessage: string;
  constructor(runtimeMessage: string) {
    super(`OCI runtime create failed: ${runtimeMessage}: unknown`);
    this.runtimeMessage = runtimeMessage;
  }
  /** Docker's CLI exit status for this failure: 127 not found, 126 not executable, else 125. */
  get exitStatus(): number {
    if (/executable file not found|no such file or directory/i.test(this.runtimeMessage)) return 127;
    if (/permission denied|exec format error|is a directory/i.test(this.runtimeMessage)) return 126;
    return 125;
  }
}

// A temp file g_file_set_contents writes before renaming into place: `<id>.XXXXXX`.
const TEMP_NAME = /\.[A-Za-z0-9]{6}$/;

export class ConmonRuntime implements ContainerRuntime {
  readonly name: string;
  readonly oci: OciRuntimeCli;
  private readonly conmonPath: string;
  private readonly execRoot: string;
  private readonly exitDir: string;
  private readonly socketDir: string;
  private readonly monitorDir: string;
  private readonly logSizeMax?: number;
  private readonly createTimeoutMs: number;
  private readonly listeners = new Set<(id: string) => void>();
  private watcher?: FSWatcher;
  private readonly reported = new Set<string>();
  private readonly rotators = new Map<string, LogRotator>();
  private dirsReady?: Promise<void>;
  private readonly execPids: ExecPidWatcher;

  constructor(opts: ConmonRuntimeOptions) {
    this.execRoot = opts.execRoot;
    this.oci = new OciRuntimeCli({ path: opts.runtimePath, root: opts.runtimeRoot ?? join(opts.execRoot, 'runc'), fifoStart: opts.fifoStart });
    this.name = opts.name ?? opts.runtimePath.split('/').pop()!;
    this.conmonPath = opts.conmonPath;
    this.exitDir = join(opts.execRoot, 'exits');
    this.socketDir = join(opts.execRoot, 'socket');
    this.monitorDir = join(opts.execRoot, 'conmon');
    this.logSizeMax = opts.logSizeMax;
    this.createTimeoutMs = opts.createTimeoutMs ?? 30_000;
    this.execPids = new ExecPidWatcher(opts.execRoot);
  }

  /** Where conmon writes `<id>`'s exit code. */
  exitFile(id: string): string {
    return join(this.exitDir, id);
  }

  private dirFor(id: string): string {
    return join(this.monitorDir, id);
  }

  private ensureDirs(): Promise<void> {
    this.dirsReady ??= (async () => {
      for (const d of [this.exitDir, this.socketDir, this.monitorDir, this.oci.root]) await mkdir(d, { recursive: true, mode: 0o711 });
    })();
    return this.dirsReady;
  }

  async create(opts: RuntimeCreateOptions): Promise<{ pid: number }> {
    const { id } = opts;
    await this.ensureDirs();
    const dir = this.dirFor(id);
    await mkdir(dir, { recursive: true });
    // A leftover exit file from an earlier run of this ID would be taken for this run's exit.
    await rm(this.exitFile(id), { force: true });
    this.reported.delete(id);
    const runtimeLog = join(dir, 'runtime.log');

    const args = [
      '--api-version', '1',
      '-c', id, '-u', id, '-n', opts.name ?? id,
      '-r', this.oci.path,
      '-b', opts.bundleDir,
      '-p', join(dir, 'pidfile'),
      '-P', join(dir, 'conmon.pid'),
      '--exit-dir', this.exitDir,
      '--socket-dir-path', this.socketDir,
      '-l', `k8s-file:${opts.logPath}`,
      '--log-level', 'warning',
      // Docker does not fsync container logs either; the sync costs time at every exit.
      '--no-sync-log',
      '--runtime-arg', '--root', '--runtime-arg', this.oci.root,
      '--runtime-arg', '--log-format=json', '--runtime-arg', `--log=${runtimeLog}`,
    ];
    const sizeMax = opts.logSizeMax ?? (opts.logRotation ? hardCap(opts.logRotation) : this.logSizeMax);
    if (sizeMax) args.push('--log-size-max', String(sizeMax));
    if (opts.tty) args.push('-t');
    if (opts.stdin) {
      args.push('-i');
      // conmon closes the container's stdin when an attached client ends its input, which is
      // Docker's StdinOnce; without StdinOnce stdin stays open across attaches. With a TTY Docker
      // never closes stdin on a client's EOF (a detached `run -it` can be attached again).
      if (!opts.stdinOnce || opts.tty) args.push('--leave-stdin-open');
    }

    const conmonLog = await openFile(join(dir, 'conmon.log'), 'a');
    let child;
    try {
      child = await spawnDetached(this.conmonPath, args, {
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
        extraPipes: 2,
        stderrFd: conmonLog.fd,
        // conmon writes an `oom` file into its working directory when the container is OOM-killed:
        // keep it in the monitor directory (removed with it), not in berthd's cwd.
        cwd: dir,
      });
    } finally {
      await conmonLog.close();
    }
    const [syncPipe, startPipe] = child.pipes;
    startPipe.on('error', () => {});
    if (opts.ready) {
      try {
        await opts.ready;
      } catch (err) {
        await this.abortMonitor(id, child);
        throw err;
      }
    }
    startPipe.end(Buffer.from([0]));

    let msg: { data: number; message?: string };
    try {
      msg = await readSyncMessage(syncPipe, this.createTimeoutMs);
    } catch (err) {
      syncPipe.destroy();
      const detail = await readFile(runtimeLog, 'utf8').then(runtimeMessage, () => '');
      const clog = await readFile(join(dir, 'conmon.log'), 'utf8').catch(() => '');
      await this.cleanupFailedCreate(id, opts.bundleDir);
      if (detail) throw new RuntimeCreateError(detail);
      throw new SystemError(`conmon for ${id}: ${(err as Error).message}${clog.trim() ? `: ${clog.trim()}` : ''}`);
    }
    syncPipe.destroy();
    if (msg.data < 0) {
      const detail = await readFile(runtimeLog, 'utf8').then(runtimeMessage, () => '');
      await this.cleanupFailedCreate(id, opts.bundleDir);
      throw new RuntimeCreateError(detail || msg.message || 'unknown error');
    }
    // Reap conmon's first process (it exits once the monitor has double-forked).
    void child.exited;
    if (opts.logRotation) this.resumeLogRotation(id, opts.logPath, opts.logRotation);
    return { pid: msg.data };
  }

  /**
   * conmon reads its start pipe before it forks, runs the runtime or makes its sockets (it has
   * only opened the log file, for appending), so one killed there leaves only the monitor
   * directory we made. Its pipes close only once it is dead: an EOF on the start pipe would make
   * it go on and create the container.
   */
  private async abortMonitor(id: string, child: DetachedChild): Promise<void> {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await child.exited;
    for (const p of child.pipes) p.destroy();
    await rm(this.dirFor(id), { recursive: true, force: true });
  }

  /**
   * A failed `runc create` can leave its state and the container's cgroups (runc does not remove
   * them when init fails late); conmon exits by itself.
   */
  private async cleanupFailedCreate(id: string, bundleDir: string): Promise<void> {
    await this.oci.delete(id, true).catch(() => {});
    await rm(this.exitFile(id), { force: true });
    await rm(join(this.socketDir, id), { recursive: true, force: true });
    // the monitor directory (runtime.log, conmon.log, pid files): no run of this container owns it
    await rm(this.dirFor(id), { recursive: true, force: true });
    const cfg = await readFile(join(bundleDir, 'config.json'), 'utf8').catch(() => '');
    try {
      const path = (JSON.parse(cfg) as { linux?: { cgroupsPath?: string } }).linux?.cgroupsPath;
      if (path) await removeCgroup(path).catch((err: Error) => log.warn('cgroup cleanup failed', { id, err }));
    } catch {
      // no readable config.json: nothing to clean
    }
  }

  start(id: string): Promise<void> {
    return this.oci.start(id);
  }

  resumeLogRotation(id: string, logPath: string, rotation: LogRotation): void {
    this.stopLogRotation(id);
    const rotator = new LogRotator({ path: logPath, ...rotation, reopen: () => this.reopenLog(id) });
    this.rotators.set(id, rotator);
    rotator.start();
  }

  private stopLogRotation(id: string): void {
    this.rotators.get(id)?.stop();
    this.rotators.delete(id);
  }

  /** Ask conmon to reopen the container's log file (ctl message 2). */
  async reopenLog(id: string): Promise<void> {
    const fh = await openFile(join(this.socketDir, id, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await fh.write('2 0 0\n');
    } finally {
      await fh.close();
    }
  }

  kill(id: string, signal: string | number, all = false): Promise<void> {
    return this.oci.kill(id, signal, all);
  }

  async delete(id: string, force = false): Promise<void> {
    this.stopLogRotation(id);
    // No `runc state` first (one spawn less on the --rm path): runc refuses a live container itself.
    try {
      await this.oci.delete(id, force);
    } catch (err) {
      if (/not stopped|running|paused/i.test((err as Error).message)) throw new Conflict(`cannot delete container ${id}: ${(err as Error).message}`);
      throw err;
    }
    // After a forced delete conmon is still recording the exit; wait so it does not write the
    // exit file after we removed it.
    const mpid = await this.monitorPid(id);
    if (mpid) {
      // conmon exits right after writing the exit file: poll finely first, then every 10 ms (~2 s).
      for (let i = 0; i < 220 && pidAlive(mpid); i++) await sleep(i < 20 ? 1 : 10);
      if (pidAlive(mpid)) {
        log.warn('conmon still alive after delete; killing it', { id, pid: mpid });
        try {
          process.kill(mpid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    await Promise.all([rm(this.exitFile(id), { force: true }), rm(join(this.socketDir, id), { force: true }), rm(this.dirFor(id), { recursive: true, force: true })]);
    this.reported.delete(id);
  }

  state(id: string): Promise<RuntimeState | undefined> {
    return this.oci.state(id);
  }

  async exitCode(id: string): Promise<number | undefined> {
    return readExitFile(this.exitFile(id));
  }

  onExit(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    this.startWatching();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && this.watcher) {
        this.watcher.close();
        this.watcher = undefined;
      }
    };
  }

  private startWatching(): void {
    if (this.watcher) return;
    // Synchronous: the watch must exist before the caller starts a container.
    mkdirSync(this.exitDir, { recursive: true, mode: 0o711 });
    this.watcher = watchDir(this.exitDir, (name) => {
      if (TEMP_NAME.test(name)) return;
      void this.checkExit(name);
    });
  }

  private async checkExit(id: string): Promise<void> {
    const code = await readExitFile(this.exitFile(id));
    if (code === undefined) {
      this.reported.delete(id); // removed: a later run of this ID reports again
      return;
    }
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.stopLogRotation(id);
    for (const l of [...this.listeners]) {
      try {
        l(id);
      } catch (err) {
        log.error('exit listener failed', { id, err });
      }
    }
  }

  readLog(logPath: string, opts?: ReadLogOptions): AsyncIterable<LogEntry> {
    return readLog(logPath, opts);
  }

  async cleanupOrphans(known: ReadonlySet<string>): Promise<void> {
    // No exec survives a restart as an exec instance: all of their files go.
    await this.execPids.removeLeftovers();
    for (const dir of [this.exitDir, this.socketDir, this.monitorDir]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (known.has(name) || TEMP_NAME.test(name)) continue;
        await rm(join(dir, name), { recursive: true, force: true });
      }
    }
  }

  async openStdin(id: string): Promise<Writable> {
    const sock = await connectAttachSocket(join(this.socketDir, id), id);
    // conmon copies output to every attached socket with a blocking write: keep reading (and drop
    // it; output is read from the log) so conmon never stalls on us.
    sock.on('data', () => {});
    return stdinWriter(sock);
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await writeResize(join(this.socketDir, id), id, height, width);
  }

  async monitorPid(id: string): Promise<number | undefined> {
    const text = await readFile(join(this.dirFor(id), 'conmon.pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    return pid > 0 && pidAlive(pid) ? pid : undefined;
  }

  /** The container's pid as conmon recorded it (also valid after a berthd restart). */
  async containerPid(id: string): Promise<number | undefined> {
    const text = await readFile(join(this.dirFor(id), 'pidfile'), 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    return pid > 0 ? pid : undefined;
  }

  async exec(opts: RuntimeExecOptions): Promise<RuntimeExec> {
    // Without a terminal runc itself is the monitor: one spawn instead of conmon + runc.
    if (!opts.process.terminal) {
      return directExec({ runtimePath: this.oci.path, runtimeRoot: this.oci.root, pids: this.execPids, timeoutMs: this.createTimeoutMs }, opts);
    }
    await this.ensureDirs();
    return conmonExec(
      {
        conmonPath: this.conmonPath,
        runtimePath: this.oci.path,
        runtimeRoot: this.oci.root,
        socketDir: this.socketDir,
        // Inside the container's monitor directory, so deleting the container removes leftovers.
        sessionDir: join(this.dirFor(opts.containerId), 'exec', opts.execId),
        timeoutMs: this.createTimeoutMs,
      },
      opts,
    );
  }

  pause(id: string): Promise<void> {
    return this.oci.pause(id);
  }

  resume(id: string): Promise<void> {
    return this.oci.resume(id);
  }

  update(id: string, resources: LinuxResources): Promise<void> {
    return this.oci.update(id, resources);
  }
}

/** fs.watch (inotify) on a directory; calls back with entry names. */
function watchDir(dir: string, onName: (name: string) => void): FSWatcher {
  const w = watch(dir, (_event, name) => {
    if (name) onName(name.toString());
  });
  // Kept referenced while someone listens: a caller awaiting an exit must not see the process end.
  return w;
}

/** The first JSON line conmon writes on the sync pipe. */
function readSyncMessage(pipe: NodeJS.ReadableStream & { destroy(): void }, timeoutMs: number): Promise<{ data: number; message?: string }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, value?: { data: number; message?: string }) => {
      clearTimeout(timer);
      pipe.removeAllListeners('data');
      pipe.removeAllListeners('end');
      if (err) reject(err);
      else resolve(value!);
    };
    pipe.on('error', (e: Error) => done(e));
    pipe.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      const line = nl >= 0 ? buf.slice(0, nl) : buf;
      try {
        const msg = JSON.parse(line) as { data: number; message?: string };
        if (typeof msg.data === 'number') done(undefined, msg);
      } catch {
        // incomplete JSON: wait for more
      }
    });
    pipe.on('end', () => done(new Error(`exited without reporting a pid${buf ? ` (${buf.trim()})` : ''}`)));
  });
}
