// At startup: what a crashed build left. Context directories are garbage; image views mounted for
// `RUN --mount=type=bind,from=` are unmounted (before anything is deleted: an rm through a live
// mount would walk into an image's layers) and their snapshots removed. RUN containers of a
// crashed build are ordinary containers, which restore handles.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../../lib/logger.ts';
import type { BuildServiceDeps } from './deps.ts';
import { VIEW_KEY_PREFIX } from './runner.ts';

export async function sweepBuildLeftovers(deps: BuildServiceDeps): Promise<void> {
  const host = deps.containers.host;
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
