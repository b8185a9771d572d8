import { NotFound } from '../../lib/errors.ts';
import type { ExecProcessSpec, RuntimeExec } from '../../runtime/types.ts';

/** An exec instance as created by POST /containers/{id}/exec (kept in memory, as dockerd does). */
export interface ExecRecord {
  id: string;
  containerId: string;
  user: string;
  privileged: boolean;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  env: string[];
  workingDir: string;
  entrypoint: string;
  args: string[];
  consoleSize?: [number, number];
  status: 'created' | 'starting' | 'running' | 'exited';
  exitCode: number | null;
  pid: number;
  session?: RuntimeExec;
  /** When the exec ended (ms since epoch), for garbage collection. */
  endedAt?: number;
  /**
   * The process spec built in the background at create (non-TTY execs), used by a start that
   * follows within PREPARED_FRESH_MS: the docker CLI sends the start a millisecond later.
   */
  prepared?: { at: number; process: Promise<ExecProcessSpec> };
}

/** How long a finished exec stays inspectable (dockerd collects them after 5 minutes too). */
const KEEP_FINISHED_MS = 5 * 60_000;

export class ExecStore {
  private readonly byId = new Map<string, ExecRecord>();

  add(rec: ExecRecord): void {
    this.collect();
    this.byId.set(rec.id, rec);
  }

  /** The exec instance or 404 with dockerd's text. */
  find(id: string): ExecRecord {
    const rec = this.byId.get(id);
    if (!rec) throw new NotFound(`No such exec instance: ${id}`);
    return rec;
  }

  /** IDs of a container's exec instances (inspect's ExecIDs). */
  forContainer(containerId: string): string[] {
    return [...this.byId.values()].filter((e) => e.containerId === containerId && e.status !== 'exited').map((e) => e.id);
  }

  /** Forget finished execs after a while, and every exec of a container that is gone. */
  collect(containerExists?: (id: string) => boolean): void {
    const now = Date.now();
    for (const [id, e] of this.byId) {
      if (e.endedAt !== undefined && now - e.endedAt > KEEP_FINISHED_MS) this.byId.delete(id);
      else if (containerExists && !containerExists(e.containerId) && e.status !== 'running') this.byId.delete(id);
    }
  }
}
