import { cpus } from 'node:os';
import { InvalidParameter } from '../../lib/errors.ts';
import { CONTAINER_NAME_RE } from '../../lib/names.ts';
import type { ContainerCreateRequest, HostConfig } from '../../types/docker.ts';

const MIN_MEMORY = 6 * 1024 * 1024;
const RESTART_POLICIES = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);

export function validateName(name: string): void {
  if (!CONTAINER_NAME_RE.test(name)) {
    throw new InvalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
}

/** dockerd's checks on a create request, with its error texts; everything is checked before anything is made. */
export function validateCreate(req: ContainerCreateRequest): void {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new InvalidParameter('invalid container config');
  if (typeof req.Image !== 'string' || req.Image === '') throw new InvalidParameter('No image specified');
  for (const k of ['Cmd', 'Entrypoint', 'Env'] as const) {
    const v = req[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) {
      throw new InvalidParameter(`invalid ${k}: expected an array of strings`);
    }
  }
  validateHostConfig(req.HostConfig ?? {});
}

export function validateHostConfig(hc: Partial<HostConfig>): void {
  const num = (k: keyof HostConfig): number => {
    const v = hc[k];
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidParameter(`invalid ${String(k)}: ${JSON.stringify(v)}`);
    return v;
  };
  const memory = num('Memory');
  const swap = num('MemorySwap');
  if (memory !== 0 && memory < MIN_MEMORY) throw new InvalidParameter('Minimum memory limit allowed is 6MB');
  if (swap > 0 && memory === 0) throw new InvalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < memory) throw new InvalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  const nano = num('NanoCpus');
  // os.cpus() parses /proc/cpuinfo (~0.2 ms): only when there is a value to check.
  const ncpu = nano !== 0 ? cpus().length : 0;
  if (nano < 0 || nano > ncpu * 1e9) {
    throw new InvalidParameter(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  if (nano > 0 && (num('CpuQuota') > 0 || num('CpuPeriod') > 0)) {
    throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (num('CpuShares') < 0) throw new InvalidParameter('invalid CpuShares: must be positive');
  num('PidsLimit');
  const rp = hc.RestartPolicy;
  if (rp) {
    if (!RESTART_POLICIES.has(rp.Name ?? '')) throw new InvalidParameter(`invalid restart policy '${rp.Name}'`);
    if ((rp.MaximumRetryCount ?? 0) < 0) throw new InvalidParameter('invalid restart policy: maximum retry count cannot be negative');
    if (rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) > 0) {
      throw new InvalidParameter(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    }
    if (hc.AutoRemove && rp.Name && rp.Name !== 'no') {
      throw new InvalidParameter("can't create 'AutoRemove' container with restart policy");
    }
  }
  // NetworkMode names a network (or container:<id>): daemon/containers/network.ts checks it.
}
