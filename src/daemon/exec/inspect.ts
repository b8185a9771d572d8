import type { ExecInspect } from '../../types/docker.ts';
import type { ExecDeps } from './deps.ts';

/** GET /exec/{id}/json. */
export function inspectExec(deps: ExecDeps, id: string): ExecInspect {
  const e = deps.execs.find(id);
  return {
    ID: e.id,
    Running: e.status === 'running',
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.tty, entrypoint: e.entrypoint, arguments: [...e.args], privileged: e.privileged, ...(e.user ? { user: e.user } : {}) },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: e.status === 'exited',
    ContainerID: e.containerId,
    DetachKeys: e.detachKeys,
    Pid: e.pid,
  };
}
