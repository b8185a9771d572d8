import type { CgroupSample } from '../../os/cgroupstats.ts';

export type { CgroupSample };

/** What stats, top and OOM detection read from the host (src/os implements it; fakes in tests). */
export interface ContainerMetrics {
  /** Usage of the cgroup at `cgroupsPath`; network counters from the netns of `pid`. */
  sample(cgroupsPath: string, pid: number): Promise<CgroupSample>;
  /** How many processes of the cgroup the OOM killer has killed (read before the cgroup goes). */
  oomKills(cgroupsPath: string): Promise<number>;
  /** Host PIDs of the cgroup's processes. */
  pids(cgroupsPath: string): Promise<number[]>;
  /** `ps <args>` on the host: its stdout. */
  ps(args: readonly string[]): Promise<string>;
  /** The host's memory (an unlimited memory limit is reported as this, as dockerd does). */
  hostMemory(): Promise<number>;
}

/** Which OOM kills of a container were announced already (daemon/containers/oomwatch.ts). */
export interface OomReporter {
  /** Kills of `id` not yet announced, marking them announced. */
  unreported(id: string, count: number): number;
  /** Forget a container's count (its next run has a new cgroup). */
  forget(id: string): void;
}
