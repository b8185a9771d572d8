import { log } from '../../lib/logger.ts';
import { containerPaths, eventAttributes, type ContainerDeps } from './deps.ts';
import type { OomReporter } from './metrics.ts';

/**
 * Docker reports every OOM kill in a container (containerd's TaskOOM) as an `oom` event and sets
 * State.OOMKilled, also when the process killed is not the container's init. The kernel counts
 * them per memory cgroup (oom_kill); this polls the count of running containers that have a
 * memory limit and announces increases. The exit path asks `unreported` so an OOM that ends the
 * container is announced once.
 */
export class OomWatcher implements OomReporter {
  private readonly reported = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  /** Kills of `id` not yet announced (and marks them announced). */
  unreported(id: string, count: number): number {
    const seen = this.reported.get(id) ?? 0;
    this.reported.set(id, Math.max(seen, count));
    return Math.max(0, count - seen);
  }

  /** Forget a container (its next run starts a new cgroup, counting from 0). */
  forget(id: string): void {
    this.reported.delete(id);
  }

  start(deps: ContainerDeps, intervalMs = 1000): void {
    const metrics = deps.metrics;
    if (!metrics || this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        for (const rec of deps.repo.all()) {
          if (rec.state.status !== 'running' || !((rec.hostConfig.Memory ?? 0) > 0)) continue;
          const count = await metrics.oomKills(containerPaths(deps, rec.id).cgroupsPath).catch(() => 0);
          if (count > 0 && this.unreported(rec.id, count) > 0) {
            rec.state = { ...rec.state, oomKilled: true };
            deps.repo.save(rec);
            deps.events.publish('container', 'oom', rec.id, eventAttributes(rec));
          }
        }
      })()
        .catch((err: unknown) => log.warn('oom watch failed', { error: err }))
        .finally(() => (busy = false));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
