// crun speaks runc's CLI (create/start/kill/delete/state/pause/resume, --root); only the binary differs.
import { OciRuntimeCli, type OciRuntimeOptions } from './runc.ts';

export function crun(opts: Omit<OciRuntimeOptions, 'path'> & { path?: string }): OciRuntimeCli {
  return new OciRuntimeCli({ ...opts, path: opts.path ?? '/usr/bin/crun' });
}
