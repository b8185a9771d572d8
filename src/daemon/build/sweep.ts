// At startup: what a crashed build left. Context directories are garbage; image views mounted for
// `RUN --mount=type=bind,from=` are unmounted (before anything is deleted: an rm through a live
// mount would walk into an image's layers) and their snapshots removed; RUN containers (labelled)
// are removed, after restore has reconciled them.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../../lib/logger.ts';
import type { BuildServiceDeps } from './deps.ts';
import { removeContainer } from '../containers/remove.ts';
import { STEP_LABEL, VIEW_KEY_PREFIX } from './markers.ts';

export async function sweepBuildLeftovers(deps: BuildServiceDeps): Promise<void> {
  const host = deps.containers.host;
  for (const rec of deps.containers.repo.all()) {
    if (rec.config.Labels?.[STEP_LABEL] !== 'true') continue;
    await removeContainer(deps.containers, rec.id, { force: true, removeVolumes: true }).catch((err: unknown) => log.warn('cannot remove a build step container', { id: rec.id, error: err }));
  }
  const names = await readdir(deps.viewMountsDir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(deps.viewMountsDir, name);
    await host.unmount(path).catch(() => host.unmount(path, { detach: true }).catch(() => undefined));
  }
  await rm(deps.viewMountsDir, { recursive: true, force: true });
  await rm(deps.buildsDir, { recursive: true, force: true });
  for (const s of await deps.images.snapshots.list()) {
    if (!s.key.startsWith(VIEW_KEY_PREFIX)) continue;
    await deps.images.snapshots.remove(s.key).catch((err: unknown) => log.warn('cannot remove a build view snapshot', { key: s.key, error: err }));
  }
}
