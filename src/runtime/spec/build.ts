// Container config → OCI runtime spec (config.json), with Docker's defaults (moby oci/defaults.go,
// daemon/oci_linux.go) so that what runs inside looks the same as under dockerd.
import type { HostConfig, Ulimit } from '../../types/docker.ts';
import type { LinuxNamespace, LinuxResources, RuntimeSpec, SpecMount } from '../../types/oci.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import { tweakCapabilities } from './caps.ts';

export interface SpecUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface SpecInput {
  id: string;
  /** The final argv (Entrypoint + Cmd, already merged with the image's by the caller). */
  args: string[];
  /** The final environment (see env.ts containerEnv). */
  env: string[];
  /** Working directory; '' → '/'. */
  cwd: string;
  user: SpecUser;
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  hostConfig: Partial<HostConfig>;
  /** Absolute path of the mounted rootfs. */
  rootfsPath: string;
  hostsPath?: string;
  resolvConfPath?: string;
  hostnamePath?: string;
  /** e.g. `/berth/<id>` (cgroupfs driver). */
  cgroupsPath: string;
  /** A network namespace to join (bridge/none modes prepared by the network layer). */
  netnsPath?: string;
  /** Volumes, binds, tmpfs: added after the defaults; a destination given here replaces a default. */
  extraMounts?: SpecMount[];
  /**
   * Host facts that change the spec (os/limits.ts finds them). swapLimit: swap can be limited
   * (default true); nofileLimit: berthd's hard RLIMIT_NOFILE, which caps the default 1048576.
   */
  hostFeatures?: { swapLimit?: boolean; nofileLimit?: number; boundingCaps?: readonly string[]; initPath?: string };
}

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_NOFILE = 1048576;
export const CPU_PERIOD = 100000;

const c = (major: number, minor: number | undefined, access = 'rwm') => ({ allow: true, type: 'c', major, minor, access });

/** Docker's device cgroup: deny everything, then the standard character devices and mknod. */
export function defaultDeviceRules(): NonNullable<LinuxResources['devices']> {
  return [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' }, // mknod of any char device (c *:* m)
    { allow: true, type: 'b', access: 'm' }, // mknod of any block device (b *:* m)
    c(1, 3), // null
    c(1, 5), // zero
    c(1, 7), // full
    c(1, 8), // random
    c(1, 9), // urandom
    c(5, 0), // tty
    c(5, 1), // console
    c(5, 2), // ptmx
    c(136, undefined), // pts/*
  ];
}

function defaultMounts(shmSize: number, privileged: boolean): SpecMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    // On cgroup v1 runc mounts each hierarchy's own cgroup of the container here, so files such as
    // memory.limit_in_bytes show the container's limits.
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

/** Docker ulimit names → rlimit types. */
const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

function rlimits(ulimits: readonly Ulimit[] | null | undefined, nofileLimit?: number): Array<{ type: string; hard: number; soft: number }> {
  const out = new Map<string, { type: string; hard: number; soft: number }>();
  const nofile = nofileLimit && nofileLimit > 0 ? Math.min(DEFAULT_NOFILE, nofileLimit) : DEFAULT_NOFILE;
  out.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile });
  for (const u of ulimits ?? []) {
    const type = RLIMITS[u.Name];
    if (!type) throw new InvalidParameter(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw new InvalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    out.set(type, { type, hard: u.Hard, soft: u.Soft });
  }
  return [...out.values()];
}

/** Memory and CPU limits with Docker's conventions. */
export function buildResources(hc: Partial<HostConfig>, opts: { swapLimit?: boolean } = {}): LinuxResources {
  const res: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (hc.Memory && hc.Memory > 0) {
    memory.limit = hc.Memory;
    if (opts.swapLimit !== false) {
      // MemorySwap is memory+swap; 0 → twice the memory (Docker's default), -1 → unlimited swap.
      const swap = hc.MemorySwap ?? 0;
      if (swap === -1) memory.swap = -1;
      else if (swap === 0) memory.swap = hc.Memory * 2;
      else if (swap < hc.Memory) throw new InvalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
      else memory.swap = swap;
    }
  } else if (hc.MemorySwap && hc.MemorySwap > 0) {
    throw new InvalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (hc.MemoryReservation && hc.MemoryReservation > 0) memory.reservation = hc.MemoryReservation;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness >= 0) memory.swappiness = hc.MemorySwappiness;
  if (hc.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) res.memory = memory;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (hc.CpuShares && hc.CpuShares > 0) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus && hc.NanoCpus > 0) {
    if (hc.CpuQuota || hc.CpuPeriod) throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.floor((hc.NanoCpus * CPU_PERIOD) / 1e9);
  } else {
    if (hc.CpuPeriod && hc.CpuPeriod > 0) cpu.period = hc.CpuPeriod;
    if (hc.CpuQuota && hc.CpuQuota > 0) cpu.quota = hc.CpuQuota;
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) res.cpu = cpu;

  if (hc.PidsLimit && hc.PidsLimit > 0) res.pids = { limit: hc.PidsLimit };
  return res;
}

function namespaces(hc: Partial<HostConfig>, netnsPath: string | undefined): LinuxNamespace[] {
  const ns: LinuxNamespace[] = [{ type: 'mount' }];
  const mode = hc.NetworkMode ?? 'default';
  if (mode !== 'host') ns.push(netnsPath ? { type: 'network', path: netnsPath } : { type: 'network' });
  if (hc.UTSMode !== 'host') ns.push({ type: 'uts' });
  if (hc.PidMode !== 'host') ns.push({ type: 'pid' });
  if (hc.IpcMode !== 'host') ns.push({ type: 'ipc' });
  return ns;
}

export function buildSpec(input: SpecInput): RuntimeSpec {
  const hc = input.hostConfig;
  const privileged = !!hc.Privileged;
  let caps = tweakCapabilities({ add: hc.CapAdd, drop: hc.CapDrop, privileged });
  // "All capabilities" (privileged, --cap-add ALL) means all that the host can give.
  const bounding = input.hostFeatures?.boundingCaps;
  if (bounding && (privileged || (hc.CapAdd ?? []).some((c) => c.toUpperCase() === 'ALL'))) caps = caps.filter((c) => bounding.includes(c));
  const shm = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  if (!input.args.length) throw new InvalidParameter('no command specified');

  const mounts = defaultMounts(shm, privileged);
  const files: Array<[string | undefined, string]> = [
    [input.resolvConfPath, '/etc/resolv.conf'],
    [input.hostnamePath, '/etc/hostname'],
    [input.hostsPath, '/etc/hosts'],
  ];
  for (const [source, destination] of files) {
    if (source) mounts.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
  for (const m of input.extraMounts ?? []) {
    const at = mounts.findIndex((d) => d.destination === m.destination);
    if (at >= 0) mounts.splice(at, 1);
    mounts.push(m);
  }
  // A host-network container sees the host's /sys with its own netns; Docker mounts /sys rw-less anyway.
  // --init: tini bind-mounted where Docker puts docker-init, running the command as its child.
  let args = [...input.args];
  if (hc.Init) {
    const initPath = input.hostFeatures?.initPath;
    if (!initPath) throw new InvalidParameter('docker-init binary not found (install tini)');
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: initPath, options: ['bind', 'ro'] });
    args = ['/sbin/docker-init', '--', ...args];
  }

  const resources = buildResources(hc, { swapLimit: input.hostFeatures?.swapLimit });
  resources.devices = privileged ? [{ allow: true, access: 'rwm' }] : defaultDeviceRules();

  const user: RuntimeSpec['process']['user'] = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids?.length) user.additionalGids = [...input.user.additionalGids];

  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.tty,
      user,
      args,
      env: [...input.env],
      cwd: input.cwd || '/',
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      rlimits: rlimits(hc.Ulimits, input.hostFeatures?.nofileLimit),
      noNewPrivileges: false,
      oomScoreAdj: typeof hc.OomScoreAdj === 'number' ? hc.OomScoreAdj : 0,
    },
    root: { path: input.rootfsPath, readonly: !!hc.ReadonlyRootfs },
    hostname: hc.UTSMode === 'host' ? undefined : input.hostname,
    mounts,
    linux: {
      namespaces: namespaces(hc, input.netnsPath),
      cgroupsPath: input.cgroupsPath,
      resources,
      maskedPaths: privileged ? [] : [...(hc.MaskedPaths ?? DEFAULT_MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(hc.ReadonlyPaths ?? DEFAULT_READONLY_PATHS)],
    },
  };
  if (spec.hostname === undefined) delete spec.hostname;
  if (input.tty && Array.isArray(hc.ConsoleSize) && hc.ConsoleSize[0] > 0) {
    spec.process.consoleSize = { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] };
  }
  return spec;
}
