import { ZERO_TIME } from '../../lib/time.ts';
import type { ContainerConfig, ContainerStatus, Health, HostConfig } from '../../types/docker.ts';

/** The persisted runtime facts of a container; `status` is re-derived at startup. */
export interface RecordState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string; // RFC 3339, or the zero time
  finishedAt: string;
  /** Set by `stop`/`kill` from the user, so restart policies know (issue 3). */
  stoppedByUser?: boolean;
  /** Health check state (State.Health), when the container has a health check. */
  health?: Health;
}

export interface ContainerRecord {
  id: string;
  name: string; // without the leading slash
  imageId: string;
  imageRef: string;
  created: string; // RFC 3339 with nanoseconds
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: RecordState;
  restartCount: number;
}

export function initialState(): RecordState {
  return { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: ZERO_TIME, finishedAt: ZERO_TIME };
}

export function isRunning(s: RecordState): boolean {
  return s.status === 'running' || s.status === 'paused' || s.status === 'restarting';
}

/** RFC 3339 with nanoseconds, as Go prints time.Time. */
export function nowRfc3339Nano(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  const d = new Date();
  return d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${ns.toString().padStart(6, '0')}Z`).replace(/\.?0+Z$/, 'Z');
}
