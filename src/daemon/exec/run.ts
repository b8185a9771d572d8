import { createExec } from './create.ts';
import { launchExec } from './start.ts';
import type { ExecDeps } from './deps.ts';
import type { ExecOutputChunk } from '../../runtime/types.ts';

export interface ExecInContainerOptions {
  cmd: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  privileged?: boolean;
  /** Kill the process (SIGKILL) after this long; the result then has `timedOut`. */
  timeoutMs?: number;
  /** Keep at most this many bytes of output (the rest is read and dropped). Default 64 KiB. */
  maxOutput?: number;
}

export interface ExecInContainerResult {
  execId: string;
  exitCode: number;
  /** stdout and stderr interleaved as written (truncated to maxOutput). */
  output: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Run a command in a running container and collect its exit code and output: the service behind
 * health checks (and anything else in berthd that needs `docker exec`). Goes through the same exec
 * records and events as the API (exec_create, exec_start, exec_die). A command the runtime cannot
 * start resolves with exit code 126 and the runtime's message as output, as `docker exec` shows it.
 */
export async function execInContainer(deps: ExecDeps, ref: string, opts: ExecInContainerOptions): Promise<ExecInContainerResult> {
  const { Id } = createExec(deps, ref, { Cmd: opts.cmd, User: opts.user, Env: opts.env, WorkingDir: opts.workingDir, Privileged: opts.privileged, AttachStdout: true, AttachStderr: true });
  const e = deps.execs.find(Id);
  const ctr = deps.repo.find(e.containerId);
  e.status = 'starting';
  let launched;
  try {
    launched = await launchExec(deps, ctr, e, { attach: true, stdin: false });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { execId: Id, exitCode: 126, output: msg, stdout: msg, stderr: '', timedOut: false };
  }
  const { session, done } = launched;
  const max = opts.maxOutput ?? 64 * 1024;
  const all: Buffer[] = [];
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        session.kill(9);
      }, opts.timeoutMs)
    : undefined;
  try {
    for await (const chunk of session.output as AsyncIterable<ExecOutputChunk>) {
      if (size >= max) continue;
      const data = chunk.data.subarray(0, max - size);
      size += data.length;
      all.push(data);
      (chunk.stream === 'stderr' ? err : out).push(data);
    }
    const exitCode = await done;
    return { execId: Id, exitCode, output: Buffer.concat(all).toString(), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
