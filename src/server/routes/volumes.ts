import type { Router } from '../router.ts';
import { compareApiVersions } from '../../api/version.ts';
import { boolParam, readJson, sendEmpty, sendJson } from '../context.ts';
import type { VolumeCreateRequest } from '../../types/volumes.ts';
import type { VolumeDeps } from '../../daemon/volumes/deps.ts';
import { createVolume } from '../../daemon/volumes/create.ts';
import { listVolumes } from '../../daemon/volumes/list.ts';
import { inspectVolume } from '../../daemon/volumes/inspect.ts';
import { removeVolume } from '../../daemon/volumes/remove.ts';
import { pruneVolumes } from '../../daemon/volumes/prune.ts';

/** /volumes/...: parse, call the daemon service, send. No logic here. */
export function registerVolumeRoutes(router: Router, deps: VolumeDeps): void {
  router.on('POST', '/volumes/create', async (ctx) => {
    sendJson(ctx, 201, await createVolume(deps, await readJson<VolumeCreateRequest>(ctx)));
  });

  router.on('GET', '/volumes', async (ctx) => {
    sendJson(ctx, 200, await listVolumes(deps, ctx.query.get('filters')));
  });

  router.on('POST', '/volumes/prune', async (ctx) => {
    // Before API 1.42 prune took every unused volume; since then only anonymous ones without all=true.
    sendJson(ctx, 200, await pruneVolumes(deps, ctx.query.get('filters'), { allByDefault: compareApiVersions(ctx.version, '1.42') < 0 }));
  });

  router.on('GET', '/volumes/:name', async (ctx) => {
    sendJson(ctx, 200, await inspectVolume(deps, ctx.params.name));
  });

  router.on('DELETE', '/volumes/:name', async (ctx) => {
    await removeVolume(deps, ctx.params.name, { force: boolParam(ctx.query, 'force') });
    sendEmpty(ctx, 204);
  });
}
