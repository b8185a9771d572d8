// crun speaks runc's CLI (create/start/kill/delete/state/pause/resume, --root); only the binary differs.
import { access, constants } from 'node:fs/promises';
import { hybridV2Controllers } from '../../os/cgroups.ts';
import { OciRuntimeCli, type OciRuntimeOptions } from './runc.ts';

export function crun(opts: Omit<OciRuntimeOptions, 'path'> & { path?: string }): OciRuntimeCli {
  return new OciRuntimeCli({ ...opts, path: opts.path ?? '/usr/bin/crun' });
}

/**
 * Why crun cannot run containers on this host, or undefined. crun (1.8, Debian 12) refuses every
 * container — even with its cgroup manager disabled — on a hybrid cgroup host whose cgroup2
 * hierarchy still has controllers ("cgroups in hybrid mode not supported, drop all controllers
 * from cgroupv2"); runc handles such hosts.
 */
export async function crunUnsupported(path = '/usr/bin/crun'): Promise<string | undefined> {
  if (!(await access(path, constants.X_OK).then(() => true, () => false))) return `${path} not found (apt-get install crun)`;
  const v2 = await hybridV2Controllers();
  if (v2.length) return `crun cannot run containers on this host: its cgroups are a v1/v2 hybrid with controllers on cgroup v2 (${v2.join(' ')}), which crun refuses; use runc (the default)`;
  return undefined;
}
