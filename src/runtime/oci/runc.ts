// Adapter over an OCI runtime CLI (runc; crun has the same commands). Always `--root <runtimeRoot>`
// so several berthd instances (and tests) keep separate state.
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../os/exec.ts';
import { pidAlive } from '../../os/spawn.ts';
import { deleteStoppedContainer } from './stopped-delete.ts';
import { NotFound, SystemError } from '../../lib/errors.ts';
import type { RuntimeState } from '../types.ts';
import type { LinuxResources } from '../../types/oci.ts';

export interface OciRuntimeOptions {
  /** Binary, e.g. /usr/bin/runc. */
  path: string;
  /** State directory passed as --root, e.g. <execRoot>/runc. */
  root: string;
  /** Per-command timeout; a wedged runtime must not hang the daemon. */
  timeoutMs?: number;
  /**
   * Start a created container through its exec FIFO directly (runc: read it; crun: write it)
   * instead of spawning `<runtime> start` (saves a process spawn, ~8 ms here). Default: on for
   * runc and crun, off otherwise.
   */
  fifoStart?: boolean;
  /**
   * Delete a stopped container's state in-process (stopped-delete.ts) instead of spawning
   * `runc delete`; other cases still go to the CLI. Default: on for runc (it reads runc's
   * state.json), off otherwise.
   */
  inProcessDelete?: boolean;
}

const NOT_EXIST = /does not exist|not found|no such file/i;
/** A container ID usable as one path component. */
const SAFE_ID = /^(?!\.\.?$)[\w.-]+$/;

export class OciRuntimeCli {
  readonly path: string;
  readonly root: string;
  private readonly timeoutMs: number;
  private readonly fifoStart: boolean;
  private readonly inProcessDelete: boolean;
  /** crun's side of the exec FIFO is the other way round (start writes, init reads). */
  private readonly crunFifo: boolean;

  constructor(opts: OciRuntimeOptions) {
    this.path = opts.path;
    this.root = opts.root;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fifoStart = opts.fifoStart ?? (basename(opts.path) === 'runc' || basename(opts.path) === 'crun');
    this.crunFifo = basename(opts.path) === 'crun';
    this.inProcessDelete = opts.inProcessDelete ?? basename(opts.path) === 'runc';
  }

  /** Arguments that go before the subcommand (conmon passes them as --runtime-arg). */
  globalArgs(): string[] {
    return ['--root', this.root];
  }

  private async exec(args: string[], opts: { allowFailure?: boolean } = {}) {
    return run(this.path, [...this.globalArgs(), ...args], { timeoutMs: this.timeoutMs, allowFailure: opts.allowFailure });
  }

  private fail(what: string, id: string, stderr: string): never {
    const msg = runtimeMessage(stderr);
    if (NOT_EXIST.test(msg)) throw new NotFound(`container ${id}: ${msg}`);
    throw new SystemError(`${what} ${id}: ${msg}`);
  }

  async start(id: string): Promise<void> {
    const fifo = join(this.root, id, 'exec.fifo');
    if (this.fifoStart && (await (this.crunFifo ? startCrunViaExecFifo(fifo) : startViaExecFifo(fifo, this.timeoutMs)))) return;
    const r = await this.exec(['start', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime start', id, r.stderr);
  }

  /** Signal names with or without SIG, or numbers. `all` signals every process in the container. */
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const args = ['kill'];
    if (all) args.push('--all');
    args.push(id, String(signal));
    const r = await this.exec(args, { allowFailure: true });
    if (r.code !== 0) this.fail('runtime kill', id, r.stderr);
  }

  /** Remove the runtime state; absent is fine. */
  async delete(id: string, force = false): Promise<void> {
    if (this.inProcessDelete && SAFE_ID.test(id) && (await deleteStoppedContainer(join(this.root, id)))) return;
    const args = ['delete'];
    if (force) args.push('--force');
    args.push(id);
    const r = await this.exec(args, { allowFailure: true });
    if (r.code !== 0 && !NOT_EXIST.test(r.stderr)) this.fail('runtime delete', id, r.stderr);
  }

  /** `runc state`, or undefined when the runtime does not know the container. */
  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await this.exec(['state', id], { allowFailure: true });
    if (r.code !== 0) {
      if (NOT_EXIST.test(r.stderr)) return undefined;
      this.fail('runtime state', id, r.stderr);
    }
    const s = JSON.parse(r.stdout) as { id: string; status: RuntimeState['status']; pid: number; bundle: string };
    return { id: s.id, status: s.status, pid: s.pid, bundle: s.bundle };
  }

  async pause(id: string): Promise<void> {
    const r = await this.exec(['pause', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime pause', id, r.stderr);
  }

  /**
   * `update -r FILE`: the resources as runtime-spec JSON. A file rather than `-r -`: crun opens
   * /dev/stdin by path, which fails (ENXIO) on the socket Node gives a child as its stdin.
   */
  async update(id: string, resources: LinuxResources): Promise<void> {
    // Beside the state root, not in it (runtimes list every entry of their root).
    const file = join(dirname(this.root), `.update-${id}-${randomBytes(4).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(resources), { mode: 0o600 });
    try {
      const r = await run(this.path, [...this.globalArgs(), 'update', '-r', file, id], { timeoutMs: this.timeoutMs, allowFailure: true });
      if (r.code !== 0) this.fail('runtime update', id, r.stderr);
    } finally {
      await rm(file, { force: true });
    }
  }

  async resume(id: string): Promise<void> {
    const r = await this.exec(['resume', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime resume', id, r.stderr);
  }
}

/**
 * What `runc start` does (libcontainer's linuxContainer.exec): a created container's init blocks
 * opening `<root>/<id>/exec.fifo` for writing; opening it for reading releases it, init writes one
 * byte and execs the command, and the FIFO is removed (its absence is what makes `runc state` say
 * running). Returns false (caller falls back to `runc start`) when there is no FIFO or init is gone,
 * so the CLI reports those cases with its own messages.
 */
async function startViaExecFifo(fifo: string, timeoutMs: number): Promise<boolean> {
  let fh;
  try {
    // Non-blocking: a blocking open would hang forever if init died meanwhile.
    fh = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const st = await fh.stat();
    if (!st.isFIFO()) return false;
    const buf = Buffer.alloc(16);
    const deadline = Date.now() + Math.min(timeoutMs, 5000);
    let initPid: number | undefined;
    const readByte = async (): Promise<boolean> => {
      try {
        // 0 bytes = no writer yet (init has not opened its end) or init died.
        return (await fh!.read(buf, 0, buf.length, null)).bytesRead > 0;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        return false;
      }
    };
    for (;;) {
      if (await readByte()) break;
      initPid ??= await readInitPid(join(dirname(fifo), 'state.json'));
      if (!initPid || !pidAlive(initPid) || Date.now() > deadline) {
        // A fast command may have run and exited already, leaving its byte in the FIFO. Otherwise
        // init is gone (killed between create and start): let `runc start` say so.
        if (await readByte()) break;
        return false;
      }
      await sleep(1);
    }
  } finally {
    await fh.close();
  }
  await rm(fifo, { force: true });
  return true;
}

/**
 * What `crun start` does (libcrun_container_start → libcrun_status_write_exec_fifo): crun's init
 * blocks reading `<root>/<id>/exec.fifo`; start opens it for writing, unlinks it (its absence is
 * what makes `crun state` say running) and writes one byte. crun then runs poststart hooks and
 * handles a notify socket, neither of which berth's specs have. Returns false (caller falls back
 * to `crun start`) when there is no FIFO or no reader (init gone), so crun reports those itself.
 */
async function startCrunViaExecFifo(fifo: string): Promise<boolean> {
  let fh;
  try {
    // Non-blocking: ENXIO at once if init is not reading (gone), rather than hanging.
    fh = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!(await fh.stat()).isFIFO()) return false;
    await rm(fifo, { force: true });
    await fh.write(Buffer.from([0]));
  } finally {
    await fh.close();
  }
  return true;
}

async function readInitPid(stateJson: string): Promise<number | undefined> {
  try {
    const pid = (JSON.parse(await readFile(stateJson, 'utf8')) as { init_process_pid?: number }).init_process_pid;
    return typeof pid === 'number' && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message of a runtime failure: runc logs JSON lines ({"level":"error","msg":...}) when asked
 * to (--log-format=json), plain text otherwise. Returns the last error message found.
 */
export function runtimeMessage(text: string): string {
  let last = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('{')) {
      try {
        const j = JSON.parse(t) as { level?: string; msg?: string };
        if (j.msg && (j.level === 'error' || j.level === 'fatal' || !last)) last = j.msg;
        continue;
      } catch {
        // not JSON after all
      }
    }
    last = t.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1');
  }
  return last || text.trim();
}
