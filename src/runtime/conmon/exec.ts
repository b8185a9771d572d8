// `exec` under conmon, as podman does it: `conmon --exec --exec-process-spec <process.json>`
// runs `runc exec --detach --process …` and supervises the new process (its own pty with -t, a
// stdin pipe with -i). With --exec-attach conmon opens the session's attach socket and waits for a
// second byte on the start pipe before it runs the process, so no output is lost. It reports the
// pid and then the exit code on the sync pipe.
//
// Files: <sessionDir>/ (process.json, ctl FIFO, attach socket, pidfile, exit file named after the
// container) and the link <socketDir>/<execId> → sessionDir. Both go once the process has exited.
import { mkdir, open as openFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { SeqpacketSocket } from 'node-unix-socket';
import type { ExecOutputChunk, RuntimeExec, RuntimeExecOptions } from '../types.ts';
import { spawnDetached } from '../../os/spawn.ts';
import { SystemError } from '../../lib/errors.ts';
import { log } from '../../lib/logger.ts';
import { runtimeMessage } from '../oci/runc.ts';
import { ATTACH_STDERR, ATTACH_STDOUT, connectAttachSocket, stdinWriter, writeResize } from './attachsock.ts';
import { readExitFile } from './exitfile.ts';

export interface ConmonExecContext {
  conmonPath: string;
  runtimePath: string;
  runtimeRoot: string;
  socketDir: string;
  /** A fresh directory for this session's files. */
  sessionDir: string;
  timeoutMs: number;
}

export async function conmonExec(ctx: ConmonExecContext, opts: RuntimeExecOptions): Promise<RuntimeExec> {
  const dir = ctx.sessionDir;
  const link = join(ctx.socketDir, opts.execId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'process.json'), JSON.stringify(opts.process));
  const tty = !!opts.process.terminal;
  const args = [
    '--api-version', '1',
    '-c', opts.containerId, '-u', opts.execId, '-n', opts.execId,
    '-r', ctx.runtimePath,
    '-b', dir,
    '-p', join(dir, 'pidfile'),
    '-P', join(dir, 'conmon.pid'),
    '--exit-dir', dir,
    '--socket-dir-path', ctx.socketDir,
    '-l', 'none:',
    '--log-level', 'warning',
    '--runtime-arg', '--root', '--runtime-arg', ctx.runtimeRoot,
    '--runtime-arg', '--log-format=json', '--runtime-arg', `--log=${join(dir, 'runtime.log')}`,
    '-e', '--exec-process-spec', join(dir, 'process.json'),
  ];
  if (tty) args.push('-t');
  if (opts.stdin && opts.attach) args.push('-i');
  if (opts.attach) args.push('--exec-attach');

  const cleanup = async (): Promise<void> => {
    await rm(link, { force: true });
    await rm(dir, { recursive: true, force: true });
  };

  const conmonLog = await openFile(join(dir, 'conmon.log'), 'a');
  let child;
  try {
    child = await spawnDetached(ctx.conmonPath, args, {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(opts.attach ? { _OCI_ATTACHPIPE: '5' } : {}) },
      extraPipes: opts.attach ? 3 : 2,
      stderrFd: conmonLog.fd,
      cwd: dir,
    });
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    await conmonLog.close();
  }
  void child.exited; // conmon's first process exits once the monitor has forked
  const [syncPipe, startPipe, attachPipe] = child.pipes;
  const sync = new SyncReader(syncPipe);
  startPipe.on('error', () => undefined);
  startPipe.write(Buffer.from([0]));

  let sock: SeqpacketSocket | undefined;
  const queue = new Readable({ objectMode: true, read() {} });
  let socketDone: Promise<void> = Promise.resolve();
  try {
    if (opts.attach) {
      const ready = await new SyncReader(attachPipe).next(ctx.timeoutMs);
      attachPipe.destroy();
      if (!ready || ready.data < 0) throw new SystemError(`conmon exec: attach socket not ready${ready?.message ? `: ${ready.message}` : ''}`);
      sock = await connectAttachSocket(link, opts.execId);
      sock.setInternalReadBufferSize(64 * 1024);
      const s = sock;
      socketDone = new Promise<void>((resolve) => {
        const end = (): void => {
          queue.push(null);
          resolve();
        };
        s.on('data', (packet: Buffer) => {
          if (packet.length < 2) return;
          const tag = packet[0];
          if (tag !== ATTACH_STDOUT && tag !== ATTACH_STDERR) return;
          const chunk: ExecOutputChunk = { stream: tag === ATTACH_STDERR ? 'stderr' : 'stdout', data: Buffer.from(packet.subarray(1)) };
          queue.push(chunk);
        });
        s.on('end', end);
        s.on('close', end);
        s.on('error', end);
      });
      startPipe.write(Buffer.from([0]));
    } else {
      queue.push(null);
    }
    startPipe.end();

    const started = await sync.next(ctx.timeoutMs);
    if (!started) throw new SystemError('OCI runtime exec failed: conmon exited without reporting a pid: unknown');
    if (started.data < 0) {
      const detail = await readFile(join(dir, 'runtime.log'), 'utf8').then(runtimeMessage, () => '');
      throw new SystemError(`OCI runtime exec failed: ${unquote(detail || runtimeMessage(started.message ?? '') || 'unknown error')}: unknown`);
    }
    const pid = started.data;
    let finished = false;
    const exited = (async (): Promise<number> => {
      const msg = await sync.next(0);
      finished = true;
      syncPipe.destroy();
      await socketDone;
      let code = msg?.data;
      if (code === undefined) code = (await readExitFile(join(dir, opts.containerId))) ?? -1;
      return code;
    })();
    exited
      .finally(() => {
        sock?.destroy();
        return cleanup();
      })
      .catch((err: unknown) => log.warn('exec session cleanup failed', { id: opts.execId, error: err }));
    return {
      pid,
      output: queue,
      stdin: opts.stdin && sock ? stdinWriter(sock) : undefined,
      exited,
      resize: (h, w) => writeResize(dir, opts.execId, h, w),
      kill: (signal) => {
        if (finished) return; // the pid may belong to another process by now
        try {
          process.kill(pid, signal);
        } catch {
          // exited meanwhile
        }
      },
    };
  } catch (err) {
    syncPipe.destroy();
    attachPipe?.destroy();
    startPipe.destroy();
    sock?.destroy();
    await cleanup();
    throw err;
  }
}

/** runc's logrus text escapes quotes (`exec: \"nope\": …`); docker shows them plain. */
function unquote(s: string): string {
  return s.replace(/\\"/g, '"').replace(/\\n$/, '').trim();
}

interface SyncMessage {
  data: number;
  message?: string;
}

/** conmon's JSON-line messages on a sync/attach pipe, one at a time. */
class SyncReader {
  private buf = '';
  private readonly messages: SyncMessage[] = [];
  private ended = false;
  private wake?: () => void;

  constructor(pipe: Duplex) {
    pipe.on('data', (chunk: Buffer) => {
      this.buf += chunk.toString();
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        try {
          const m = JSON.parse(line) as SyncMessage;
          if (typeof m.data === 'number') this.messages.push(m);
        } catch {
          log.warn('conmon: unreadable sync message', { line });
        }
      }
      this.wake?.();
    });
    const end = (): void => {
      this.ended = true;
      this.wake?.();
    };
    pipe.on('end', end);
    pipe.on('close', end);
    pipe.on('error', end);
  }

  /** The next message; undefined when the pipe ended first. `timeoutMs` 0 = no timeout. */
  async next(timeoutMs: number): Promise<SyncMessage | undefined> {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    for (;;) {
      const m = this.messages.shift();
      if (m) return m;
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new SystemError(`conmon exec: no answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
        this.wake = () => {
          if (timer) clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }
}
