import { Conflict, InvalidParameter } from '../../lib/errors.ts';
import { buildResources } from '../../runtime/spec/build.ts';
import type { ContainerUpdateRequest, HostConfig } from '../../types/docker.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';

export type UpdateRequest = ContainerUpdateRequest;

const POLICIES = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);

/**
 * Apply the fields the request sets (moby's UpdateContainer: zero values leave a setting as it
 * is), persist them, and change the cgroup of a running container (`runc update`).
 */
export async function updateContainer(deps: ContainerDeps, ref: string, body: UpdateRequest): Promise<{ Warnings: string[] }> {
  const rec = deps.repo.find(ref);
  return deps.locks.run(rec.id, async () => {
    const hc: HostConfig = structuredClone(rec.hostConfig);
    if (body.Memory) hc.Memory = body.Memory;
    if (body.MemorySwap) hc.MemorySwap = body.MemorySwap;
    if (body.MemoryReservation) hc.MemoryReservation = body.MemoryReservation;
    if (body.Memory && !body.MemorySwap && rec.hostConfig.MemorySwap && rec.hostConfig.MemorySwap > 0 && body.Memory > rec.hostConfig.MemorySwap) {
      throw new InvalidParameter('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    if (body.NanoCpus) {
      if ((rec.hostConfig.CpuQuota ?? 0) > 0 || (rec.hostConfig.CpuPeriod ?? 0) > 0) throw new InvalidParameter('Conflicting options: Nano CPUs cannot be updated as CPU Period/Quota has already been set');
      hc.NanoCpus = body.NanoCpus;
    }
    if (body.CpuQuota || body.CpuPeriod) {
      if ((rec.hostConfig.NanoCpus ?? 0) > 0 && !body.NanoCpus) throw new InvalidParameter('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
      if (body.CpuQuota) hc.CpuQuota = body.CpuQuota;
      if (body.CpuPeriod) hc.CpuPeriod = body.CpuPeriod;
    }
    if (body.CpuShares) hc.CpuShares = body.CpuShares;
    if (body.CpusetCpus) hc.CpusetCpus = body.CpusetCpus;
    if (body.CpusetMems) hc.CpusetMems = body.CpusetMems;
    let unlimitPids = false;
    if (body.PidsLimit !== undefined && body.PidsLimit !== null) {
      hc.PidsLimit = body.PidsLimit > 0 ? body.PidsLimit : 0;
      unlimitPids = body.PidsLimit <= 0;
    }
    const rp = body.RestartPolicy;
    if (rp && rp.Name !== undefined && rp.Name !== '') {
      if (!POLICIES.has(rp.Name)) throw new InvalidParameter(`invalid restart policy '${rp.Name}'`);
      if (rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) > 0) throw new InvalidParameter("invalid restart policy: maximum retry count can only be used with 'on-failure'");
      if ((rp.MaximumRetryCount ?? 0) < 0) throw new InvalidParameter('invalid restart policy: maximum retry count cannot be negative');
      if (hc.AutoRemove && rp.Name !== 'no') throw new Conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
      hc.RestartPolicy = { Name: rp.Name as HostConfig['RestartPolicy']['Name'], MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
    }
    const resources = buildResources(hc, { swapLimit: deps.hostFeatures.swapLimit });
    if (unlimitPids) resources.pids = { limit: -1 };
    const st = rec.state.status;
    if (st === 'running' || st === 'paused') await deps.runtime.update(rec.id, resources);
    rec.hostConfig = hc;
    deps.repo.save(rec);
    deps.events.publish('container', 'update', rec.id, eventAttributes(rec));
    return { Warnings: [] };
  });
}
