// Where runc (cgroupfs driver) puts a container's cgroups, and removing them after a failure.
import { readFile, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../lib/errors.ts';

export type CgroupVersion = 1 | 2;

interface Hierarchy {
  mountPoint: string;
  version: CgroupVersion;
}

let cachedHierarchies: Hierarchy[] | undefined;

async function hierarchies(): Promise<Hierarchy[]> {
  if (cachedHierarchies) return cachedHierarchies;
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = line.split(' ')[4];
    if (seen.has(mountPoint)) continue;
    seen.add(mountPoint);
    out.push({ mountPoint, version: fstype === 'cgroup2' ? 2 : 1 });
  }
  cachedHierarchies = out;
  return out;
}

/** 2 only when the unified hierarchy is the whole of /sys/fs/cgroup (hybrid hosts are v1 for runc). */
export async function cgroupVersion(): Promise<CgroupVersion> {
  const hs = await hierarchies();
  return hs.some((h) => h.version === 2 && h.mountPoint === '/sys/fs/cgroup') ? 2 : 1;
}

/**
 * On a hybrid host (v1 controllers plus a cgroup2 mount, e.g. /sys/fs/cgroup/unified), the
 * controllers still attached to the cgroup2 hierarchy (e.g. `hugetlb` when no v1 mount claims
 * it). Empty on pure v1 or pure v2 hosts.
 */
export async function hybridV2Controllers(): Promise<string[]> {
  if ((await cgroupVersion()) === 2) return [];
  const v2 = (await hierarchies()).find((h) => h.version === 2);
  if (!v2) return [];
  const text = await readFile(join(v2.mountPoint, 'cgroup.controllers'), 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean);
}

/**
 * Directories that exist or would exist for `cgroupsPath` (e.g. `/berth/<id>`): one per mounted
 * hierarchy on v1 (including the name=systemd one and, on hybrid hosts, the unified one, which runc
 * also joins), one on v2.
 */
export async function cgroupPaths(cgroupsPath: string): Promise<string[]> {
  const rel = cgroupsPath.replace(/^\/+/, '');
  if (!rel || rel.split('/').includes('..')) throw new SystemError(`bad cgroups path ${JSON.stringify(cgroupsPath)}`);
  return (await hierarchies()).map((h) => join(h.mountPoint, rel));
}

/** Remove a cgroup directory tree, deepest first; absent directories are fine. */
async function rmdirTree(dir: string): Promise<void> {
  // rmdir first: a container's cgroup has no children, and listing one costs as much as removing
  // it (a v1 memory cgroup has ~30 control files). EBUSY means children or tasks: remove the
  // children, then retry while tasks are still leaving (a killed process takes a moment to be reaped).
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if ((code !== 'EBUSY' && code !== 'ENOTEMPTY') || i >= 20) throw new SystemError(`remove cgroup ${dir}: ${(e as Error).message}`, { cause: e });
    }
    let children: string[];
    try {
      children = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of children) await rmdirTree(join(dir, name));
    if (children.length === 0) await sleep(25);
  }
}

/** Remove the container's cgroups in every hierarchy (cleanup of half-made or leaked containers). */
export async function removeCgroup(cgroupsPath: string): Promise<void> {
  const errors: string[] = [];
  await Promise.all((await cgroupPaths(cgroupsPath)).map((dir) => rmdirTree(dir).catch((e: Error) => void errors.push(e.message))));
  if (errors.length) throw new SystemError(errors.join('; '));
}

/**
 * Remove the given cgroup directories (absolute paths, each inside a mounted cgroup hierarchy),
 * in parallel, deepest first within each. Refuses paths outside the hierarchies.
 */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<void> {
  const mounts = (await hierarchies()).map((h) => h.mountPoint + '/');
  const bad = dirs.find((d) => d.split('/').includes('..') || !mounts.some((m) => d.startsWith(m) && d.length > m.length));
  if (bad !== undefined) throw new SystemError(`not a cgroup directory: ${JSON.stringify(bad)}`);
  const errors: string[] = [];
  await Promise.all(dirs.map((d) => rmdirTree(d).catch((e: Error) => void errors.push(e.message))));
  if (errors.length) throw new SystemError(errors.join('; '));
}

/** Child cgroup names under `parent` (e.g. `/berth`) in any hierarchy: for leak checks. */
export async function listCgroupChildren(parent: string): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of await cgroupPaths(parent)) {
    try {
      for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return [...names].sort();
}

/** Does the container's cgroup exist in any hierarchy? */
export async function cgroupExists(cgroupsPath: string): Promise<boolean> {
  for (const dir of await cgroupPaths(cgroupsPath)) {
    if (await stat(dir).then(() => true, () => false)) return true;
  }
  return false;
}
