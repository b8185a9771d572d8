import { Conflict, InvalidParameter, NotImplemented, SystemError } from '../../lib/errors.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/**
 * GET /containers/{id}/top?ps_args=: `ps` on the host, rows of the container's processes only
 * (moby's ContainerTop: the PID column picks them, CMD keeps its spaces).
 */
export async function containerTop(deps: ContainerDeps, ref: string, psArgs: string | undefined): Promise<TopResult> {
  const rec = deps.repo.find(ref);
  if (!deps.metrics) throw new NotImplemented('top is not available');
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new Conflict(`Container ${rec.id} is not running`);
  const args = (psArgs?.trim() || '-ef').split(/\s+/);
  const pids = new Set(await deps.metrics.pids(containerPaths(deps, rec.id).cgroupsPath));
  let out: string;
  try {
    out = await deps.metrics.ps(args);
  } catch (err) {
    throw new InvalidParameter(`Error running ps: ${(err as Error).message}`);
  }
  return parsePs(out, pids);
}

export function parsePs(out: string, pids: ReadonlySet<number>): TopResult {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new SystemError(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!pids.has(pid)) continue;
    if (fields.length > titles.length) fields.splice(titles.length - 1, fields.length, fields.slice(titles.length - 1).join(' '));
    processes.push(fields);
  }
  return { Titles: titles, Processes: processes };
}
