// The cgroup2 `favordynmods` option (Linux ≥ 6.0), which berthd turns on at start.
//
// Moving a process into a cgroup (runc writing a pid to cgroup.procs, for every container start
// and every exec) takes the kernel's global cgroup_threadgroup_rwsem for writing. Without
// favordynmods, that rwsem's fast read path makes each cold write wait for an RCU grace period:
// 7 ms per move on the 2-core bench VM (0.2–0.3 ms with the option), which was a third of runc
// create and half of runc exec there. The option favours task migration over fork/exit, which is
// a container engine's workload; the kernel documents it for that trade. It is host-wide (one
// cgroup_threadgroup_rwsem, so it also speeds up v1 hierarchies on hybrid hosts) and is set on
// the cgroup2 super block, so berthd remounts the host's cgroup2 mount with its current options
// plus this one. v1 hierarchies cannot take it by remount; a host with no cgroup2 mount is left
// as it is. From Linux 6.18 the kernel keeps the faster per-threadgroup locking even if the
// option is later removed. `berthd --no-cgroup-favordynmods` leaves the host untouched.
import { readFile } from 'node:fs/promises';
import { parseMountOptions, unescapeMountPath } from './mount.ts';
import { libc, type Libc } from './libc.ts';
import { run } from './exec.ts';

const MS_REMOUNT = 0x20;
const EINVAL = 22;

export interface Remount {
  /** The cgroup2 mount point. */
  target: string;
  /** MS_REMOUNT plus the mount's own per-mount flags (a remount without them would clear them). */
  flags: number;
  /** The super block's current options plus favordynmods (a cgroup2 remount resets the rest). */
  data: string;
}

export type FavorDynmodsResult =
  | { state: 'enabled'; target: string }
  | { state: 'already'; target: string }
  | { state: 'no-cgroup2' }
  | { state: 'unsupported'; target: string; reason: string };

/**
 * The remount that adds favordynmods to the first cgroup2 mount in `mountinfo`
 * (/proc/self/mountinfo's text); 'already' when it has the option, undefined when there is no
 * cgroup2 mount.
 */
/** The first cgroup2 mount in mountinfo: its path, per-mount options and super block options. */
export function findCgroup2Mount(mountinfo: string): { target: string; mountOptions: string[]; superOptions: string[] } | undefined {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    return { target: unescapeMountPath(fields[4]), mountOptions: (fields[5] ?? '').split(','), superOptions: superOptions.split(',') };
  }
  return undefined;
}

export function favorDynmodsRemount(mountinfo: string): Remount | { already: string } | { readOnly: string } | undefined {
  const cg = findCgroup2Mount(mountinfo);
  if (!cg) return undefined;
  const { target, mountOptions, superOptions: all } = cg;
  if (all.includes('favordynmods')) return { already: target };
  // A remount without MS_BIND applies MS_RDONLY to the super block, shared by every mount of
  // the hierarchy: a read-only view (systemd's ProtectControlGroups, a container's /sys) must
  // not make the host's cgroup2 read-only.
  if (mountOptions.includes('ro') || all.includes('ro')) return { readOnly: target };
  const sopts = all.filter((o) => o && o !== 'rw');
  const { flags } = parseMountOptions(mountOptions);
  return { target, flags: MS_REMOUNT | flags, data: [...sopts, 'favordynmods'].join(',') };
}

/** The first cgroup2 mount has favordynmods in its super block options. */
function hasFavorDynmods(mountinfo: string): boolean {
  const plan = favorDynmodsRemount(mountinfo);
  return !!plan && 'already' in plan;
}

/** Turn favordynmods on for the host's cgroup2 hierarchy, if there is one and the kernel has it. */
export async function enableFavorDynmods(
  mountinfo?: string,
  c: Libc | undefined | null = null,
): Promise<FavorDynmodsResult> {
  const readMountinfo = (): Promise<string> => readFile('/proc/self/mountinfo', 'utf8');
  const plan = favorDynmodsRemount(mountinfo ?? (await readMountinfo()));
  if (!plan) return { state: 'no-cgroup2' };
  if ('already' in plan) return { state: 'already', target: plan.already };
  if ('readOnly' in plan) return { state: 'unsupported', target: plan.readOnly, reason: 'the cgroup2 mount is read-only here' };
  const sys = c === null ? await libc() : c;
  if (sys) {
    const errno = await sys.mount('none', plan.target, null, plan.flags, plan.data);
    // EINVAL: a kernel before 6.0 does not know the option
    if (errno !== 0) return { state: 'unsupported', target: plan.target, reason: errno === EINVAL ? 'this kernel has no favordynmods option (Linux ≥ 6.0)' : sys.strerror(errno) };
  } else {
    // no koffi: mount(8) merges the mount's current options itself
    const res = await run('mount', ['-o', 'remount,favordynmods', plan.target], { allowFailure: true });
    if (res.code !== 0) return { state: 'unsupported', target: plan.target, reason: res.stderr.trim() || `mount exited ${res.code}` };
  }
  // Outside the initial cgroup namespace the kernel accepts the remount and ignores the option.
  if (mountinfo === undefined && !hasFavorDynmods(await readMountinfo())) {
    return { state: 'unsupported', target: plan.target, reason: 'the remount had no effect (not in the initial cgroup namespace?)' };
  }
  return { state: 'enabled', target: plan.target };
}
