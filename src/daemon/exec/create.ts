import { randomBytes } from 'node:crypto';
import { Conflict, InvalidParameter } from '../../lib/errors.ts';
import type { ExecCreateRequest } from '../../types/docker.ts';
import type { ContainerRecord } from '../containers/record.ts';
import { publishExecEvent, type ExecDeps } from './deps.ts';
import type { ExecRecord } from './store.ts';
import { buildExecProcess } from './process.ts';

/** 409 unless the container is running (dockerd's getActiveContainer texts). */
export function requireActive(rec: ContainerRecord): void {
  const st = rec.state.status;
  if (st === 'paused') throw new Conflict(`Container ${rec.id} is paused, unpause the container before exec`);
  if (st === 'restarting') throw new Conflict(`Container ${rec.id} is restarting, wait until the container is running`);
  if (st !== 'running') throw new Conflict(`Container ${rec.id} is not running`);
}

/** POST /containers/{id}/exec → the new exec instance's ID. */
export function createExec(deps: ExecDeps, ref: string, body: ExecCreateRequest): { Id: string } {
  const ctr = deps.repo.find(ref);
  const cmd = body.Cmd ?? [];
  if (!Array.isArray(cmd) || cmd.length === 0) throw new InvalidParameter('No exec command specified');
  if (cmd.some((a) => typeof a !== 'string')) throw new InvalidParameter('Cmd must be an array of strings');
  for (const e of body.Env ?? []) {
    if (typeof e !== 'string' || e === '' || e.startsWith('=')) throw new InvalidParameter(`invalid environment variable: ${String(e)}`);
  }
  requireActive(ctr);
  const cs = body.ConsoleSize;
  if (cs != null && (!Array.isArray(cs) || cs.length !== 2 || cs.some((n) => !Number.isInteger(n) || n < 0))) throw new InvalidParameter('ConsoleSize must be [height, width]');
  const rec: ExecRecord = {
    id: randomBytes(32).toString('hex'),
    containerId: ctr.id,
    user: body.User ?? '',
    privileged: !!body.Privileged,
    tty: !!body.Tty,
    attachStdin: !!body.AttachStdin,
    attachStdout: !!body.AttachStdout,
    attachStderr: !!body.AttachStderr,
    detachKeys: body.DetachKeys ?? '',
    env: body.Env ?? [],
    workingDir: body.WorkingDir ?? '',
    entrypoint: cmd[0],
    args: cmd.slice(1),
    consoleSize: cs ? [cs[0], cs[1]] : undefined,
    status: 'created',
    exitCode: null,
    pid: 0,
  };
  deps.execs.collect((id) => deps.repo.get(id) !== undefined);
  deps.execs.add(rec);
  if (!rec.tty) {
    // Overlaps reading config.json and the container's passwd/group with the client's next request
    // (from a microtask: after the create's answer is written). A failure surfaces at start, where
    // it belongs (exit 126), so it is caught here.
    const process = Promise.resolve().then(() => buildExecProcess(deps, ctr, rec));
    process.catch(() => undefined);
    rec.prepared = { at: Date.now(), process };
  }
  publishExecEvent(deps, ctr, rec, 'exec_create');
  return { Id: rec.id };
}
