import { EventEmitter } from 'node:events';

export interface ExitInfo {
  exitCode: number;
}

/** Hook run after the runtime created a container's process but before it starts (attach). */
export type PreStartHook = () => Promise<void>;

/**
 * In-memory rendezvous points of a container's life: attach hooks that must run between
 * `create` and `start`, and waiters for the next exit or the removal.
 */
export class Lifecycle {
  private readonly emitter = new EventEmitter();
  private readonly preStart = new Map<string, Set<PreStartHook>>();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  addPreStartHook(id: string, hook: PreStartHook): () => void {
    let set = this.preStart.get(id);
    if (!set) this.preStart.set(id, (set = new Set()));
    set.add(hook);
    return () => {
      set.delete(hook);
      if (set.size === 0 && this.preStart.get(id) === set) this.preStart.delete(id);
    };
  }

  async runPreStartHooks(id: string): Promise<void> {
    const hooks = this.preStart.get(id);
    if (!hooks || hooks.size === 0) return;
    this.preStart.delete(id);
    await Promise.allSettled([...hooks].map((h) => h()));
  }

  /** Resolves at the container's next exit (or rejects on abort). */
  nextExit(id: string, signal?: AbortSignal): Promise<ExitInfo> {
    return this.once(`exit:${id}`, signal) as Promise<ExitInfo>;
  }
  emitExit(id: string, info: ExitInfo): void {
    this.emitter.emit(`exit:${id}`, info);
  }

  removed(id: string, signal?: AbortSignal): Promise<void> {
    return this.once(`removed:${id}`, signal) as Promise<void>;
  }
  emitRemoved(id: string): void {
    this.emitter.emit(`removed:${id}`);
  }

  /** Resolves at the next start attempt: true if it started, false if it failed. */
  started(id: string, signal?: AbortSignal): Promise<boolean> {
    return this.once(`started:${id}`, signal) as Promise<boolean>;
  }
  emitStarted(id: string): void {
    this.emitter.emit(`started:${id}`, true);
  }
  emitStartFailed(id: string): void {
    this.emitter.emit(`started:${id}`, false);
  }

  private once(event: string, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onEvent = (v: unknown): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => {
        this.emitter.off(event, onEvent);
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      this.emitter.once(event, onEvent);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
