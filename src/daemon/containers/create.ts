import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomId } from '../../lib/digest.ts';
import { failpoint } from '../../lib/failpoint.ts';
import { generateName } from '../../lib/names.ts';
import type { ContainerCreateRequest, ContainerCreateResponse } from '../../types/docker.ts';
import { containerPaths, eventAttributes, type ContainerDeps } from './deps.ts';
import { mergeConfig, normalizeHostConfig } from './config.ts';
import { writeEtcFiles } from './etcfiles.ts';
import { applyNetworkPlan, planNetworks } from './network.ts';
import { initialState, nowRfc3339Nano, type ContainerRecord } from './record.ts';
import { nameConflict } from './repo.ts';
import { validateCreate, validateName } from './validate.ts';
import { mergeLogConfig } from './logconfig.ts';
import { validateHealthcheck } from './health.ts';

function pickName(deps: ContainerDeps, requested: string | undefined): string {
  if (requested) {
    validateName(requested);
    const name = requested.replace(/^\//, '');
    const owner = deps.repo.nameOwner(name);
    if (owner) throw nameConflict(name, owner);
    return name;
  }
  for (let retry = 0; ; retry++) {
    const name = generateName(retry > 5 ? retry : 0);
    if (!deps.repo.nameOwner(name)) return name;
  }
}

/**
 * POST /containers/create. Everything is validated before anything is made; then the rootfs
 * snapshot and the container's files are created, and the DB row is written last, so a crash
 * or error at any step leaves only orphans that `restore` sweeps (and here we sweep at once).
 */
export async function createContainer(deps: ContainerDeps, req: ContainerCreateRequest, requestedName?: string): Promise<ContainerCreateResponse> {
  validateCreate(req);
  const logConfig = mergeLogConfig(req.HostConfig?.LogConfig, deps.logDefaults);
  validateHealthcheck(req.Healthcheck);
  const name = pickName(deps, requestedName);
  const netPlan = planNetworks(deps, req);
  const image = await deps.images.resolve(req.Image);
  const id = randomId();
  const hostNetwork = req.HostConfig?.NetworkMode === 'host';
  const config = mergeConfig(req, image.config, id, hostNetwork ? hostname() : id.slice(0, 12));
  const hostConfig = { ...normalizeHostConfig(req.HostConfig, deps.runtimeName), LogConfig: logConfig };
  const paths = containerPaths(deps, id);
  const rec: ContainerRecord = {
    id,
    name,
    imageId: image.id,
    imageRef: req.Image,
    created: nowRfc3339Nano(),
    config,
    hostConfig,
    state: initialState(),
    restartCount: 0,
  };
  // Volumes, binds and tmpfs are resolved (and named volumes created) before anything else is made.
  const mounts = await deps.volumes?.prepare(id, config, hostConfig);
  try {
    // Independent: the rootfs snapshot, and the data directory with its etc files. Both settle
    // before a failure is handled, so the cleanup below never races one still being made.
    const made = await Promise.allSettled([
      deps.snapshots.prepare(id, image.chainId || undefined),
      mkdir(paths.dataDir, { recursive: true, mode: 0o710 }).then(() => writeEtcFiles(paths, config, hostConfig)),
    ]);
    for (const r of made) if (r.status === 'rejected') throw r.reason;
    failpoint('container-create-before-commit');
    deps.repo.tx(() => {
      deps.repo.insert(rec);
      mounts?.commit();
      applyNetworkPlan(deps, id, netPlan);
    });
  } catch (err) {
    if (deps.repo.get(id)) deps.repo.delete(id);
    await deps.network?.forgetContainer(id).catch(() => undefined);
    await rm(paths.dataDir, { recursive: true, force: true });
    await deps.snapshots.remove(id).catch(() => undefined);
    await mounts?.rollback();
    throw err;
  }
  deps.events.publish('container', 'create', id, eventAttributes(rec));
  const warnings: string[] = [];
  return { Id: id, Warnings: warnings };
}
