// Reading a container's resource usage from its cgroup files (v1: one hierarchy per controller;
// v2: one directory) and its network counters from its netns (/proc/<pid>/net/dev). Shapes are
// neutral; daemon/containers/stats.ts turns them into Docker's JSON.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cgroupVersion } from './cgroups.ts';

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface CgroupSample {
  /** When the sample was read (ms since epoch). */
  at: number;
  cpu: { total: number; percpu: number[]; kernel: number; user: number; periods: number; throttledPeriods: number; throttledTime: number };
  /** Host CPU time of all CPUs in ns (Docker's system_cpu_usage). */
  systemCpu: number;
  onlineCpus: number;
  memory: { usage: number; maxUsage?: number; limit: number; failcnt?: number; stats: Record<string, number> };
  pids: { current: number; limit?: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
  /** Interfaces of the container's netns (without lo). */
  networks: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }>;
}

const V1 = '/sys/fs/cgroup';
const CLOCK_TICKS = 100; // USER_HZ on Linux
const NS_PER_TICK = 1e9 / CLOCK_TICKS;
const UNLIMITED = 2 ** 62;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function readNum(path: string): Promise<number | undefined> {
  const t = (await readText(path))?.trim();
  if (t === undefined || t === '') return undefined;
  if (t === 'max') return UNLIMITED;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines → record. */
function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** v1 blkio files: "8:0 Read 123" lines (the Total lines dropped as docker does not show them either). */
function blkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 …" → docker's Read/Write entries. */
function ioStatV2(text: string | undefined): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
    const major = Number(m[1]);
    const minor = Number(m[2]);
    serviceBytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

/** Host CPU time in ns from /proc/stat's first line, and the number of CPUs. */
async function systemCpu(): Promise<{ systemCpu: number; onlineCpus: number }> {
  const text = (await readText('/proc/stat')) ?? '';
  const first = text.split('\n', 1)[0] ?? '';
  const ticks = first.split(/\s+/).slice(1, 8).reduce((a, v) => a + (Number(v) || 0), 0);
  const cpus = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length || availableParallelism();
  return { systemCpu: ticks * NS_PER_TICK, onlineCpus: cpus };
}

/** Counters of /proc/<pid>/net/dev: the container's netns, seen through its init process. */
export async function netDev(pid: number): Promise<CgroupSample['networks']> {
  const out: CgroupSample['networks'] = {};
  if (!(pid > 0)) return out;
  const text = await readText(`/proc/${pid}/net/dev`);
  for (const line of (text ?? '').split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3], tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11] };
  }
  return out;
}

function rel(cgroupsPath: string): string {
  return cgroupsPath.replace(/^\/+/, '');
}

/** A sample of the cgroup `cgroupsPath` (e.g. `/berth/<id>`), `pid` being a process in its netns. */
export async function readCgroupSample(cgroupsPath: string, pid: number): Promise<CgroupSample> {
  const r = rel(cgroupsPath);
  const [sys, networks] = await Promise.all([systemCpu(), netDev(pid)]);
  if ((await cgroupVersion()) === 2) {
    const dir = join(V1, r);
    const [cpuStat, memCurrent, memMax, memPeak, memStat, pidsCur, pidsMax, io] = await Promise.all([
      readText(join(dir, 'cpu.stat')).then(keyValues),
      readNum(join(dir, 'memory.current')),
      readNum(join(dir, 'memory.max')),
      readNum(join(dir, 'memory.peak')),
      readText(join(dir, 'memory.stat')).then(keyValues),
      readNum(join(dir, 'pids.current')),
      readNum(join(dir, 'pids.max')),
      readText(join(dir, 'io.stat')).then(ioStatV2),
    ]);
    return {
      at: Date.now(),
      cpu: {
        total: (cpuStat.usage_usec ?? 0) * 1000,
        percpu: [],
        kernel: (cpuStat.system_usec ?? 0) * 1000,
        user: (cpuStat.user_usec ?? 0) * 1000,
        periods: cpuStat.nr_periods ?? 0,
        throttledPeriods: cpuStat.nr_throttled ?? 0,
        throttledTime: (cpuStat.throttled_usec ?? 0) * 1000,
      },
      ...sys,
      memory: { usage: memCurrent ?? 0, maxUsage: memPeak, limit: memMax ?? UNLIMITED, stats: memStat },
      pids: { current: pidsCur ?? 0, limit: pidsMax },
      blkio: io,
      networks,
    };
  }
  const d = (ctrl: string, file: string): string => join(V1, ctrl, r, file);
  const [usage, percpu, cpuacctStat, cpuStat, memUsage, memMaxUsage, memLimit, memFailcnt, memStat, pidsCur, pidsMax, ioBytes, ioServiced] = await Promise.all([
    readNum(d('cpuacct', 'cpuacct.usage')),
    readText(d('cpuacct', 'cpuacct.usage_percpu')),
    readText(d('cpuacct', 'cpuacct.stat')).then(keyValues),
    readText(d('cpu', 'cpu.stat')).then(keyValues),
    readNum(d('memory', 'memory.usage_in_bytes')),
    readNum(d('memory', 'memory.max_usage_in_bytes')),
    readNum(d('memory', 'memory.limit_in_bytes')),
    readNum(d('memory', 'memory.failcnt')),
    readText(d('memory', 'memory.stat')).then(keyValues),
    readNum(d('pids', 'pids.current')),
    readNum(d('pids', 'pids.max')),
    readText(d('blkio', 'blkio.throttle.io_service_bytes_recursive')),
    readText(d('blkio', 'blkio.throttle.io_serviced_recursive')),
  ]);
  return {
    at: Date.now(),
    cpu: {
      total: usage ?? 0,
      percpu: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(Number),
      kernel: (cpuacctStat.system ?? 0) * NS_PER_TICK,
      user: (cpuacctStat.user ?? 0) * NS_PER_TICK,
      periods: cpuStat.nr_periods ?? 0,
      throttledPeriods: cpuStat.nr_throttled ?? 0,
      throttledTime: cpuStat.throttled_time ?? 0,
    },
    ...sys,
    memory: { usage: memUsage ?? 0, maxUsage: memMaxUsage, limit: memLimit ?? UNLIMITED, failcnt: memFailcnt, stats: memStat },
    pids: { current: pidsCur ?? 0, limit: pidsMax },
    blkio: { serviceBytes: blkioV1(ioBytes), serviced: blkioV1(ioServiced) },
    networks,
  };
}

/** Was a process of the cgroup killed by the OOM killer (v1 memory.oom_control, v2 memory.events)? */
export async function oomKillCount(cgroupsPath: string): Promise<number> {
  const r = rel(cgroupsPath);
  if ((await cgroupVersion()) === 2) return keyValues(await readText(join(V1, r, 'memory.events'))).oom_kill ?? 0;
  return keyValues(await readText(join(V1, 'memory', r, 'memory.oom_control'))).oom_kill ?? 0;
}

/** PIDs (host namespace) of every process in the cgroup. */
export async function cgroupPids(cgroupsPath: string): Promise<number[]> {
  const r = rel(cgroupsPath);
  const file = (await cgroupVersion()) === 2 ? join(V1, r, 'cgroup.procs') : join(V1, 'pids', r, 'cgroup.procs');
  return ((await readText(file)) ?? '')
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

/** The host's memory in bytes (Docker caps an unlimited memory limit at it). */
export async function hostMemory(): Promise<number> {
  const m = /^MemTotal:\s+(\d+) kB/m.exec((await readText('/proc/meminfo')) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/** `ps` on the host (procps), for `top`. */
export async function runPs(args: readonly string[]): Promise<string> {
  const { run } = await import('./exec.ts');
  const r = await run('ps', args, { timeoutMs: 30_000, allowFailure: true });
  if (r.code !== 0) throw new Error(`ps: ${r.stderr.trim() || `exit status ${r.code}`}`);
  return r.stdout;
}

/** The metrics the daemon reads, as one object for cmd/berthd.ts to wire. */
export const hostMetrics = {
  sample: readCgroupSample,
  oomKills: oomKillCount,
  pids: cgroupPids,
  ps: runPs,
  hostMemory,
};
