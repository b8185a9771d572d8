import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Router } from '../router.ts';
import { boolParam, intParam, readJson, sendEmpty, sendJson } from '../context.ts';
import type { ContainerDeps } from '../../daemon/containers/deps.ts';
import { resizeContainer } from '../../daemon/containers/resize.ts';
import { containerStats, type StatsJson } from '../../daemon/containers/stats.ts';
import { containerTop } from '../../daemon/containers/top.ts';
import { pauseContainer, unpauseContainer } from '../../daemon/containers/pause.ts';
import { updateContainer, type UpdateRequest } from '../../daemon/containers/update.ts';

/** Operations on a running container (issue 3): resize, top, stats, pause/unpause, update. */
export function registerContainerOpsRoutes(router: Router, deps: ContainerDeps): void {
  router.on('POST', '/containers/:id/resize', async (ctx) => {
    await resizeContainer(deps, ctx.params.id, intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    sendEmpty(ctx, 200);
  });

  router.on('GET', '/containers/:id/top', async (ctx) => {
    sendJson(ctx, 200, await containerTop(deps, ctx.params.id, ctx.query.get('ps_args') ?? undefined));
  });

  router.on('GET', '/containers/:id/stats', async (ctx) => {
    const res = ctx.res as ServerResponse;
    const abort = new AbortController();
    // Only a response cut short aborts (abort() builds a DOMException: not for every request).
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const stream = boolParam(ctx.query, 'stream', true);
    const oneShot = boolParam(ctx.query, 'one-shot');
    if (!stream) {
      // One object: headers and body in one write, with a Content-Length.
      let body: StatsJson | undefined;
      await containerStats(deps, ctx.params.id, { stream, oneShot }, (s) => void (body = s), abort.signal);
      if (!res.destroyed) sendJson(ctx, 200, body);
      return;
    }
    let started = false;
    await containerStats(
      deps,
      ctx.params.id,
      { stream, oneShot },
      async (s) => {
        if (!started) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          started = true;
        }
        if (!res.write(JSON.stringify(s) + '\n')) await once(res, 'drain', { signal: abort.signal }).catch(() => undefined);
      },
      abort.signal,
    );
    res.end();
  });

  router.on('POST', '/containers/:id/pause', async (ctx) => {
    await pauseContainer(deps, ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/unpause', async (ctx) => {
    await unpauseContainer(deps, ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/update', async (ctx) => {
    sendJson(ctx, 200, await updateContainer(deps, ctx.params.id, (await readJson<UpdateRequest>(ctx)) ?? {}));
  });
}
