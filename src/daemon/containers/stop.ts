import { Conflict, NotModified, errorMessage } from '../../lib/errors.ts';
import { parseSignal } from '../../lib/signals.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';
import { isRunning, type ContainerRecord } from './record.ts';
import { cancelRestart } from './restartcancel.ts';

/** A frozen (paused) container receives a signal only once thawed: resume it, as dockerd does. */
async function thawAfterSignal(deps: ContainerDeps, rec: ContainerRecord): Promise<void> {
  if (rec.state.status !== 'paused') return;
  // `runc kill --all` freezes, signals and thaws the cgroup itself: "not paused" is fine.
  await deps.runtime.resume(rec.id).catch((err: unknown) => {
    if (!/not paused/i.test(errorMessage(err))) throw err;
  });
  rec.state = { ...rec.state, status: 'running' };
  deps.repo.save(rec);
  deps.events.publish('container', 'unpause', rec.id, eventAttributes(rec));
}

/** Send a signal and wait up to `timeoutMs` for the exit to be recorded; true if it exited. */
async function signalAndWait(deps: ContainerDeps, rec: ContainerRecord, signal: number, timeoutMs: number): Promise<boolean> {
  if (!isRunning(rec.state)) return true;
  // Waiting out a restart backoff: there is no process; cancelling the restart is the stop.
  if (rec.state.status === 'restarting' && (await cancelRestart(deps, rec))) return true;
  if (!isRunning(rec.state)) return true;
  const abort = new AbortController();
  const exited = deps.lifecycle.nextExit(rec.id, abort.signal).then(() => true, () => false);
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    try {
      await deps.runtime.kill(rec.id, signal, true);
      await thawAfterSignal(deps, rec);
    } catch (err) {
      // The process may be gone already; the exit path will record it.
      if (!isRunning(rec.state)) return true;
      if ((await deps.runtime.exitCode(rec.id)) === undefined) throw err;
    }
    return await exited;
  } finally {
    clearTimeout(timer);
    abort.abort(); // drop the exit listener whatever happened
  }
}

/** A user's stop or kill: restart policies leave the container alone (persisted for berthd's next start). */
function markStoppedByUser(deps: ContainerDeps, rec: ContainerRecord): void {
  rec.state.stoppedByUser = true;
  deps.repo.save(rec);
}

/** Kill and wait for the exit to be recorded (used by stop, rm -f, restart). */
export async function killAndWait(deps: ContainerDeps, rec: ContainerRecord, signal: string, timeoutMs: number): Promise<void> {
  deps.events.publish('container', 'kill', rec.id, eventAttributes(rec, { signal: String(parseSignal(signal)) }));
  await signalAndWait(deps, rec, parseSignal(signal), timeoutMs);
}

/** POST /containers/{id}/stop: the stop signal, then SIGKILL after the timeout. 304 if not running. */
export async function stopContainer(deps: ContainerDeps, ref: string, opts: { timeoutSec?: number; signal?: string }): Promise<void> {
  const rec = deps.repo.find(ref);
  if (!isRunning(rec.state)) throw new NotModified();
  const signal = parseSignal(opts.signal || rec.config.StopSignal || 'SIGTERM');
  const timeoutSec = opts.timeoutSec ?? rec.config.StopTimeout ?? 10;
  markStoppedByUser(deps, rec);
  deps.events.publish('container', 'kill', rec.id, eventAttributes(rec, { signal: String(signal) }));
  const exited = timeoutSec < 0 ? await signalAndWait(deps, rec, signal, 2 ** 31 - 1) : await signalAndWait(deps, rec, signal, timeoutSec * 1000);
  if (!exited) {
    deps.events.publish('container', 'kill', rec.id, eventAttributes(rec, { signal: '9' }));
    await signalAndWait(deps, rec, 9, 30_000);
  }
  deps.events.publish('container', 'stop', rec.id, eventAttributes(rec));
}

/** POST /containers/{id}/kill. 409 when not running. */
export async function killContainer(deps: ContainerDeps, ref: string, signalName?: string): Promise<void> {
  const rec = deps.repo.find(ref);
  const signal = parseSignal(signalName || 'SIGKILL');
  if (!isRunning(rec.state)) throw new Conflict(`Container ${rec.id} is not running`);
  markStoppedByUser(deps, rec);
  deps.events.publish('container', 'kill', rec.id, eventAttributes(rec, { signal: String(signal) }));
  if (rec.state.status === 'restarting' && (await cancelRestart(deps, rec))) return;
  await deps.runtime.kill(rec.id, signal, true);
  if (signal === 9) await thawAfterSignal(deps, rec);
}
