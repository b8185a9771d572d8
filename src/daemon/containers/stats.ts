import { setTimeout as sleep } from 'node:timers/promises';
import { NotImplemented } from '../../lib/errors.ts';
import { ZERO_TIME } from '../../lib/time.ts';
import { containerPaths, type ContainerDeps } from './deps.ts';
import type { CgroupSample, ContainerMetrics } from './metrics.ts';
import type { ContainerRecord } from './record.ts';

/** Docker's stats JSON (the fields the CLI reads, plus the rest of moby's shape). */
export interface StatsJson {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, Array<{ major: number; minor: number; op: string; value: number }> | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  name: string;
  id: string;
  networks?: CgroupSample['networks'];
}

interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

const EMPTY_CPU: CpuStats = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };

function cpuStats(s: CgroupSample): CpuStats {
  return {
    cpu_usage: { total_usage: s.cpu.total, ...(s.cpu.percpu.length ? { percpu_usage: s.cpu.percpu } : {}), usage_in_kernelmode: s.cpu.kernel, usage_in_usermode: s.cpu.user },
    system_cpu_usage: s.systemCpu,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: s.cpu.periods, throttled_periods: s.cpu.throttledPeriods, throttled_time: s.cpu.throttledTime },
  };
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Stats of a container that is not running: dockerd's zero values. */
function emptyStats(rec: ContainerRecord): StatsJson {
  return {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: EMPTY_CPU,
    precpu_stats: EMPTY_CPU,
    memory_stats: {},
    name: `/${rec.name}`,
    id: rec.id,
  };
}

export function toStatsJson(rec: ContainerRecord, s: CgroupSample, pre: CgroupSample | undefined, hostMemory: number): StatsJson {
  const limit = hostMemory > 0 && s.memory.limit > hostMemory ? hostMemory : s.memory.limit;
  return {
    read: rfc3339(s.at),
    preread: pre ? rfc3339(pre.at) : ZERO_TIME,
    pids_stats: { current: s.pids.current, ...(s.pids.limit !== undefined && s.pids.limit < 2 ** 62 ? { limit: s.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: s.blkio.serviceBytes,
      io_serviced_recursive: s.blkio.serviced,
      io_queue_recursive: [],
      io_service_time_recursive: [],
      io_wait_time_recursive: [],
      io_merged_recursive: [],
      io_time_recursive: [],
      sectors_recursive: [],
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(s),
    precpu_stats: pre ? cpuStats(pre) : EMPTY_CPU,
    memory_stats: {
      usage: s.memory.usage,
      ...(s.memory.maxUsage !== undefined ? { max_usage: s.memory.maxUsage } : {}),
      stats: s.memory.stats,
      ...(s.memory.failcnt !== undefined ? { failcnt: s.memory.failcnt } : {}),
      limit,
    },
    name: `/${rec.name}`,
    id: rec.id,
    ...(Object.keys(s.networks).length ? { networks: s.networks } : {}),
  };
}

/** The last sample of each container, so a one-shot `stats` has a `precpu` without waiting a second. */
const lastSamples = new Map<string, CgroupSample>();
const PRECPU_MIN_MS = 100;
const PRECPU_MAX_MS = 30_000;

function metricsOf(deps: ContainerDeps): ContainerMetrics {
  if (!deps.metrics) throw new NotImplemented('stats are not available');
  return deps.metrics;
}

async function sampleOf(deps: ContainerDeps, rec: ContainerRecord): Promise<CgroupSample> {
  const s = await metricsOf(deps).sample(containerPaths(deps, rec.id).cgroupsPath, rec.state.pid);
  lastSamples.set(rec.id, s);
  if (lastSamples.size > 64) for (const [id, old] of lastSamples) if (s.at - old.at > PRECPU_MAX_MS) lastSamples.delete(id);
  return s;
}

export interface StatsOptions {
  stream: boolean;
  /** one-shot=1: a single sample, no precpu (API ≥ 1.41). */
  oneShot: boolean;
}

/**
 * GET /containers/{id}/stats. `write` receives each JSON object; a stream sends one a second
 * until the container stops or `signal` fires. A one-shot answer uses the previous sample as
 * precpu when it is recent, else samples twice 100 ms apart.
 */
export async function containerStats(deps: ContainerDeps, ref: string, opts: StatsOptions, write: (s: StatsJson) => void | Promise<void>, signal: AbortSignal): Promise<void> {
  const rec = deps.repo.find(ref);
  const metrics = metricsOf(deps);
  const hostMem = await metrics.hostMemory();
  const running = (): boolean => rec.state.status === 'running' || rec.state.status === 'paused';
  if (!running()) {
    await write(emptyStats(rec));
    return;
  }
  if (!opts.stream) {
    if (opts.oneShot) {
      await write(toStatsJson(rec, await sampleOf(deps, rec), undefined, hostMem));
      return;
    }
    let pre = lastSamples.get(rec.id);
    const age = pre ? Date.now() - pre.at : Infinity;
    if (!pre || age < PRECPU_MIN_MS || age > PRECPU_MAX_MS) {
      pre = await sampleOf(deps, rec);
      await sleep(PRECPU_MIN_MS, undefined, { signal }).catch(() => undefined);
    }
    await write(toStatsJson(rec, await sampleOf(deps, rec), pre, hostMem));
    return;
  }
  let pre: CgroupSample | undefined;
  while (!signal.aborted && running()) {
    const s = await sampleOf(deps, rec);
    await write(toStatsJson(rec, s, pre, hostMem));
    pre = s;
    await sleep(1000, undefined, { signal }).catch(() => undefined);
  }
}

