import type { RestartPolicy } from '../../types/docker.ts';

/** moby's restartmanager: the first delay, its growth, its cap, and the run time that resets it. */
export const BACKOFF_START_MS = 100;
export const BACKOFF_FACTOR = 2;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface ExitFacts {
  exitCode: number;
  /** Stopped or killed by the user (docker stop/kill), or berthd is shutting down. */
  manuallyStopped: boolean;
  /** Restarts by policy so far (the container's RestartCount). */
  restartCount: number;
}

/** Whether a policy restarts a container after this exit (moby's ShouldRestart without the timing). */
export function policyRestarts(policy: RestartPolicy | undefined, facts: ExitFacts): boolean {
  switch (policy?.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !facts.manuallyStopped;
    case 'on-failure': {
      const max = policy.MaximumRetryCount ?? 0;
      return facts.exitCode !== 0 && (max === 0 || facts.restartCount < max);
    }
    default:
      return false;
  }
}

/**
 * Pending policy restarts and each container's backoff (in memory, as moby keeps it): the delay
 * starts at 100 ms, doubles with every restart up to a minute, and falls back to 100 ms once a
 * run lasted 10 s. A manual stop, kill or rm cancels the pending restart.
 */
export class RestartManager {
  private readonly delays = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** After an exit: restart? A manual stop or kill cancels any policy (moby's ExitOnNext). */
  shouldRestart(policy: RestartPolicy | undefined, facts: ExitFacts): boolean {
    return !facts.manuallyStopped && policyRestarts(policy, facts);
  }

  /** The next delay for `id` after a run of `ranMs` (advances the backoff). */
  nextDelay(id: string, ranMs: number): number {
    let delay = ranMs >= BACKOFF_RESET_AFTER_MS ? 0 : (this.delays.get(id) ?? 0);
    delay = delay === 0 ? BACKOFF_START_MS : Math.min(delay * BACKOFF_FACTOR, BACKOFF_MAX_MS);
    this.delays.set(id, delay);
    return delay;
  }

  /** Run `fn` after `delayMs` unless cancelled first. */
  schedule(id: string, delayMs: number, fn: () => void): void {
    this.cancel(id);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  pending(id: string): boolean {
    return this.timers.has(id);
  }

  /** Drop a pending restart; true if there was one. */
  cancel(id: string): boolean {
    const t = this.timers.get(id);
    if (!t) return false;
    clearTimeout(t);
    this.timers.delete(id);
    return true;
  }

  /** A manual start or removal: forget the backoff. */
  reset(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  /** Stop every pending restart (berthd shutting down). */
  cancelAll(): void {
    for (const id of [...this.timers.keys()]) this.cancel(id);
  }
}

/**
 * At berthd's start: restart a stopped container? `always` even after a manual stop (as dockerd
 * does at its start), `unless-stopped` unless the user stopped it, `on-failure` after a failure
 * with retries left. Only containers that ran before.
 */
export function restartsAtBoot(policy: RestartPolicy | undefined, facts: ExitFacts & { startedBefore: boolean }): boolean {
  if (!facts.startedBefore) return false;
  if (policy?.Name === 'always') return true;
  return policyRestarts(policy, facts);
}
