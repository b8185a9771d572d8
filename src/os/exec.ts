// Run a host command and collect its output. No shell: arguments go to the program verbatim.
import { spawn } from 'node:child_process';
import { SystemError } from '../lib/errors.ts';

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
