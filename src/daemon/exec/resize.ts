import { setTimeout as sleep } from 'node:timers/promises';
import { Conflict } from '../../lib/errors.ts';
import type { ExecDeps } from './deps.ts';

/**
 * POST /exec/{id}/resize. The CLI sends it right after the start request, possibly before the
 * process runs: wait for the start (up to 10 s, as dockerd does).
 */
export async function resizeExec(deps: ExecDeps, id: string, height: number, width: number): Promise<void> {
  const e = deps.execs.find(id);
  for (let i = 0; i < 500 && (e.status === 'created' || e.status === 'starting'); i++) await sleep(20);
  if (e.status !== 'running' || !e.session) throw new Conflict(`Exec ${id} is not running`);
  if (!e.tty) return; // no terminal to resize
  await e.session.resize(height, width);
}
