import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execProcess } from '../../runtime/spec/exec.ts';
import { containerEnv, mergeEnv } from '../../runtime/spec/env.ts';
import { resolveUser } from '../../runtime/spec/user.ts';
import type { ExecProcessSpec } from '../../runtime/types.ts';
import type { RuntimeSpec } from '../../types/oci.ts';
import { containerPaths } from '../containers/deps.ts';
import type { ContainerRecord } from '../containers/record.ts';
import type { ExecDeps } from './deps.ts';
import type { ExecRecord } from './store.ts';

/** The exec's OCI process: the container's running process spec with the exec's command, user, env and cwd. */
export async function buildExecProcess(deps: ExecDeps, ctr: ContainerRecord, e: ExecRecord): Promise<ExecProcessSpec> {
  const paths = containerPaths(deps, ctr.id);
  // berthd's own small file under the exec root: a synchronous read costs less than four
  // thread-pool round trips (open, stat, read, close).
  const spec = JSON.parse(readFileSync(join(paths.bundleDir, 'config.json'), 'utf8')) as RuntimeSpec;
  const user = await resolveUser(paths.rootfs, e.user || ctr.config.User, (ctr.hostConfig.GroupAdd as string[] | null | undefined) ?? []);
  const hostname = ctr.config.Hostname + (ctr.config.Domainname ? `.${ctr.config.Domainname}` : '');
  const env = containerEnv({ env: mergeEnv(ctr.config.Env ?? [], e.env), hostname, tty: e.tty, home: user.home });
  return execProcess({
    base: spec.process,
    args: [e.entrypoint, ...e.args],
    env,
    cwd: e.workingDir || ctr.config.WorkingDir || '/',
    user,
    tty: e.tty,
    privileged: e.privileged,
    boundingCaps: deps.hostFeatures.boundingCaps,
    consoleSize: e.consoleSize,
  });
}
