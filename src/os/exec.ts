// Run a host command and collect its output. No shell: arguments go to the program verbatim.
import { spawn } from 'node:child_process';
import { SystemError } from '../lib/errors.ts';
import { posixSpawn } from './posix-spawn.ts';

export interface RunOptions {
  /**
   * Bytes written to the command's stdin (stdin is /dev/null otherwise). A promise lets the
   * process start while its input is still being decided; a rejected one gives it empty input.
   */
  input?: string | Uint8Array | Promise<string | Uint8Array>;
  /** Kill the command (SIGKILL) after this long and fail. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; 128+n when killed by signal n (shell convention). */
  code: number;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new SystemError(`${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const res: RunResult = {
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
      };
      if (timedOut) return reject(new SystemError(`${cmd} ${args.join(' ')}: timed out after ${opts.timeoutMs} ms`));
      if (res.code !== 0 && !opts.allowFailure) {
        const msg = res.stderr.trim() || res.stdout.trim() || `exit status ${res.code}`;
        return reject(new SystemError(`${cmd} ${args[0] ?? ''}: ${msg}`));
      }
      resolve(res);
    });
    if (opts.input !== undefined) {
      // EPIPE from a command that does not read its input is not our failure; its exit code tells.
      child.stdin!.on('error', () => {});
      const input = opts.input;
      if (input instanceof Promise) input.then((b) => child.stdin!.end(b), () => child.stdin!.end());
      else child.stdin!.end(input);
    }
  });
}

/**
 * `run` through posix_spawn (src/os/posix-spawn.ts) when koffi loads: no fork of the whole daemon
 * (~2 ms of blocked event loop per spawn here). For commands on hot paths, given by absolute path;
 * no cwd. Falls back to `run`.
 */
export async function runLight(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'cwd'> = {}): Promise<RunResult> {
  const light = await posixSpawn();
  if (!light || !cmd.startsWith('/')) return run(cmd, args, opts);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? process.env)) if (v !== undefined) env[k] = v;
  const child = light.spawn(cmd, [cmd, ...args], { env, stdin: opts.input !== undefined, output: true });
  const collect = (s: NodeJS.ReadableStream | undefined): Promise<string> =>
    new Promise((resolve) => {
      if (!s) return resolve('');
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      s.on('error', () => resolve(Buffer.concat(parts).toString()));
      s.on('end', () => resolve(Buffer.concat(parts).toString()));
    });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  if (child.stdin && opts.input !== undefined) {
    const stdin = child.stdin;
    // EPIPE from a command that does not read its input is not our failure; its exit code tells.
    stdin.on('error', () => {});
    const input = opts.input;
    if (input instanceof Promise) input.then((b) => stdin.end(b), () => stdin.end());
    else stdin.end(input);
  }
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, opts.timeoutMs)
    : undefined;
  const code = await child.exited;
  if (timer) clearTimeout(timer);
  const res: RunResult = { stdout: await out, stderr: await err, code };
  if (timedOut) throw new SystemError(`${cmd} ${args.join(' ')}: timed out after ${opts.timeoutMs} ms`);
  if (res.code !== 0 && !opts.allowFailure) {
    const msg = res.stderr.trim() || res.stdout.trim() || `exit status ${res.code}`;
    throw new SystemError(`${cmd} ${args[0] ?? ''}: ${msg}`);
  }
  return res;
}
